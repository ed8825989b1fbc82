"""The in-app console: a transport that drives an engine session directly.

It feeds the engine exactly the bytes telnet would send (the typed line plus CRLF) and
publishes the session's events on the Bus, as the TCP transport does for sockets. A
reply the engine wants delayed (a failed login) is held for that long, and input typed
meanwhile waits its turn, like a socket whose reading is paused. No Textual here: the
app hands in `schedule(seconds, callback)`.

TLS: when the engine asks for an upgrade (STARTTLS, STLS) the console runs a real TLS
handshake between an in-memory client and server (`MemoryTlsPair`), and from then on
every octet the student sends or receives really is encrypted in between; `on_wire`
hears those octets (what an eavesdropper would see) for the byte view. A session can
also be opened with TLS from the start, like a client on an implicit-TLS port.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from mailsim.clock import Clock, IdGenerator
from mailsim.events import ClientLine, Event
from mailsim.protocol.base import CRLF, Session, SessionConfig
from mailsim.store.store import MailStore
from mailsim.transcript.bus import Bus
from mailsim.transport.tls import MemoryTlsPair, console_material

Schedule = Callable[[float, Callable[[], None]], object]

CONSOLE_PEER = "console"
# Octets on the wire once encrypted: ("C" or "S", the TLS records), for the byte view.
WireListener = Callable[[str, bytes], None]


def console_config(store: MailStore) -> SessionConfig:
    """The console's sessions: STARTTLS/STLS offered (the console can always encrypt)."""
    return SessionConfig(hostname=store.domain, tls_offered=True)


def console_tls(store: MailStore) -> MemoryTlsPair:
    material, trusted = console_material(store.domain)
    return MemoryTlsPair(material, store.domain, trusted)


class ConsoleConnection:
    def __init__(
        self,
        engine: type[Session],
        store: MailStore,
        bus: Bus,
        *,
        session_id: str,
        schedule: Schedule,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.session = engine(
            store, session_id=session_id, peer=CONSOLE_PEER, clock=clock, ids=ids, config=console_config(store)
        )
        self.store = store
        self.implicit_tls = implicit_tls
        self.tls: MemoryTlsPair | None = None
        self.on_wire: WireListener | None = None
        # Output nobody typed for (IMAP IDLE woken by a delivery): shown on the next
        # turn, after the command that caused it has been shown.
        self.session.on_output = lambda: self._schedule(0, self._flush_if_open)
        self.bus = bus
        self._schedule = schedule
        self._holding = False
        self._held: list[Event] = []
        self._waiting: list[bytes] = []

    @property
    def closed(self) -> bool:
        return self.session.closed

    @property
    def busy(self) -> bool:
        """True while a deliberately delayed reply is being held back."""
        return self._holding

    def open(self) -> None:
        if self.implicit_tls:
            self.tls = console_tls(self.store)
            self.session.start(tls=self.tls.handshake())
        else:
            self.session.start()
        self._flush()

    def send_line(self, text: str) -> None:
        """Send one typed line, as telnet does: its UTF-8 bytes and CRLF."""
        self.send_bytes(text.encode("utf-8") + CRLF)

    def send_bytes(self, data: bytes) -> None:
        if self._holding:
            self._waiting.append(data)
            return
        if self.tls is not None:
            wire, data = self.tls.client_to_server(data)
            self._wire("C", wire)
        self.session.receive_data(data)
        self._flush()

    def hang_up(self) -> None:
        """The student closed the tab: to the server, the client went away."""
        if not self.session.closed:
            self.session.receive_eof()
            self._flush()

    def _flush(self) -> None:
        out = self.session.data_to_send()  # the console's "socket": the events already show it
        if self.tls is not None and out:
            self._wire("S", self.tls.server_to_client(out)[0])
        if self.session.tls_requested and not self.session.closed:
            self._upgrade()
        events = self.session.events()
        delay = self.session.take_delay()
        if delay <= 0 and not self._holding:
            self.bus.publish_all(events)
            return
        # What the client sent is on screen at once; the server's answer waits.
        while events and isinstance(events[0], ClientLine) and not self._holding:
            self.bus.publish(events.pop(0))
        self._held.extend(events)
        if not self._holding:
            self._holding = True
            self._schedule(delay, self._release)

    def _upgrade(self) -> None:
        """The engine said go ahead: do the handshake, tell the engine how it went."""
        pair = console_tls(self.store)
        try:
            params = pair.handshake()
        except ssl.SSLError as exc:
            self.session.tls_failed(exc.reason or str(exc))
            return
        self.tls = pair
        self.session.tls_started(params)

    def _wire(self, direction: str, octets: bytes) -> None:
        if self.on_wire is not None and octets:
            self.on_wire(direction, octets)

    def _flush_if_open(self) -> None:
        if not self._holding:
            self._flush()

    def _release(self) -> None:
        self._holding = False
        held, self._held = self._held, []
        self.bus.publish_all(held)
        while self._waiting and not self._holding:
            self.send_bytes(self._waiting.pop(0))
