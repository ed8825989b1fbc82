"""Every server of the world on TCP, as on the Internet, plus the queue between them.

- the home domain's servers, as they always were (`MailServers`: SMTP 2525 delivers
  the home domain and relays for logged-in users; POP3 and IMAP for every mailbox);
- a submission listener (RFC 6409; 587 on the Internet, 2587 here): AUTH required,
  relays for its users;
- one SMTP listener per other domain, in the MX role (no AUTH, accepts only its own
  domains, never relays): 2526, 2527... in the order of the world file;
- the outgoing queue's timer, which relays queued mail to the other domains' servers
  in-process (a relay session on the Bus for each hop).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mailsim.events import Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.protocol.relay import QueueRunner, mx_config
from mailsim.store.store import MailStore
from mailsim.transcript.bus import Bus
from mailsim.transport.queue import QueueScheduler
from mailsim.transport.tcp import MailServers, ServerOptions

DEFAULT_SUBMISSION_PORT = 2587


@dataclass(frozen=True, slots=True)
class Listener:
    """One listening socket of the world, for the startup banner and the tests."""

    label: str        # "mailsim.test", "submission", "ejemplo.test (MX)"
    hostname: str     # the name the server gives itself
    protocol: Protocol
    host: str
    port: int


@dataclass
class WorldOptions:
    submission_port: int | None = DEFAULT_SUBMISSION_PORT  # None: no submission listener
    # Ports of the other domains' MX listeners; a domain missing here gets the home
    # SMTP port + its position (0 stays 0: any free port).
    mx_ports: dict[str, int] = field(default_factory=dict)
    other_domains: bool = True  # listen for the other domains' MX servers too
    run_queue: bool = True      # False when the caller runs the queue itself (the app)


class WorldServers:
    def __init__(self, store: MailStore, bus: Bus, options: ServerOptions | None = None,
                 world: WorldOptions | None = None) -> None:
        self.store = store
        self.bus = bus
        self.options = options or ServerOptions()
        self.world = world or WorldOptions()
        self.base_config = self.options.session_config or SessionConfig(hostname=store.domain)
        self.home = MailServers(store, bus, self.options)
        self.others: list[tuple[str, MailServers]] = []
        self.scheduler = QueueScheduler(QueueRunner(store, bus.publish, config=self.base_config))
        self.listeners: list[Listener] = []

    def _add(self, label: str, port: int, config: SessionConfig) -> None:
        # SMTP only, in cleartext with STARTTLS (the implicit-TLS ports are the home
        # servers'); and one set of slots and one login throttle for the whole world,
        # so a student cannot take 20 connections on every listener.
        options = dataclasses.replace(
            self.options, ports={Protocol.SMTP: port}, implicit_tls_ports={}, session_config=config
        )
        self.others.append((label, MailServers(self.store, self.bus, options, admission=self.home)))

    async def start(self) -> list[Listener]:
        home_hostname = self.base_config.hostname
        for protocol, (host, port) in (await self.home.start()).items():
            self.listeners.append(Listener(self.store.domain, home_hostname, protocol, host, port))
        if self.world.submission_port is not None:
            config = dataclasses.replace(self.base_config, role="submission")
            self._add("submission", self.world.submission_port, config)
        smtp_port = self.options.ports.get(Protocol.SMTP, 0)
        others = [d for d in self.store.domains.values() if d.name != self.store.domain and self.world.other_domains]
        for position, domain in enumerate(others, start=1):
            default = smtp_port + position if smtp_port else 0
            port = self.world.mx_ports.get(domain.name, default)
            self._add(f"{domain.name} (MX)", port, mx_config(self.store, domain.hostname, self.base_config))
        for label, servers in self.others:
            for protocol, (host, port) in (await servers.start()).items():
                hostname = servers.options.session_config.hostname if servers.options.session_config else ""
                self.listeners.append(Listener(label, hostname, protocol, host, port))
        if self.world.run_queue:
            self.scheduler.start()
        return self.listeners

    def port(self, label: str, protocol: Protocol = Protocol.SMTP) -> int:
        return next(item.port for item in self.listeners if item.label == label and item.protocol is protocol)

    async def stop(self) -> None:
        self.scheduler.stop()
        for _label, servers in self.others:
            await servers.stop()
        await self.home.stop()
