"""The real TCP servers on free ports, on a loop in a background thread, for tests."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from mailsim.events import Event, Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.store.store import MailStore
from mailsim.transcript.bus import Bus
from mailsim.transport.tcp import MailServers, ServerOptions


@dataclass
class RunningServers:
    store: MailStore
    bus: Bus
    ports: dict[Protocol, int]
    loop: asyncio.AbstractEventLoop
    servers: MailServers
    events: list[Event] = field(default_factory=list)

    @property
    def smtp(self) -> int:
        return self.ports[Protocol.SMTP]

    def call(self, func, *args):
        """Run `func` on the servers' loop thread and return its result (store reads
        from the test thread must not race the loop)."""
        async def run():
            return func(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)


def start_servers(store: MailStore, *, config: SessionConfig | None = None, **options) -> Iterator[RunningServers]:
    bus = Bus()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        servers = MailServers(
            store,
            bus,
            ServerOptions(
                ports={protocol: 0 for protocol in Protocol},
                session_config=config or SessionConfig(hostname=store.domain, auth_failure_delay=0.05),
                **options,
            ),
        )
        holder["servers"] = servers
        holder["ports"] = loop.run_until_complete(servers.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "servers did not start"
    servers = holder["servers"]
    running = RunningServers(
        store, bus, {p: port for p, (_, port) in holder["ports"].items()}, loop, servers  # type: ignore[union-attr]
    )
    bus.subscribe(running.events.append)
    try:
        yield running
    finally:
        asyncio.run_coroutine_threadsafe(servers.stop(), loop).result(timeout=10)  # type: ignore[union-attr]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def serve_process(*extra: str) -> tuple[subprocess.Popen, dict[str, int]]:
    """`mailsim serve` in a child process on free ports, as a teacher runs it; returns
    it and its ports by protocol name ("SMTP", "POP3", "IMAP")."""
    server = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0",
         "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    ports: dict[str, int] = {}
    while len(ports) < 3:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line, server.stderr.read()  # type: ignore[union-attr]
        found = re.match(r"(\w+)\s+listening on [\d.]+:(\d+)", line)
        if found:
            ports[found.group(1)] = int(found.group(2))
    return server, ports
