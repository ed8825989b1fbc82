"""asyncio TCP servers bridging sockets to the sans-IO engines.

A thin `data_received` loop (the shape of websockets' asyncio layer): bytes from the
socket go into the session, its output goes back out, its events go onto the Bus.
The same engine classes serve the in-app console, so what a real client sees and what
a student types are answered by the same code.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from mailsim.events import ClientLine, Protocol
from mailsim.protocol.base import Session, SessionConfig
from mailsim.protocol.registry import ENGINES
from mailsim.protocol.throttle import LoginThrottle
from mailsim.store.store import MailStore
from mailsim.transcript.bus import Bus
from mailsim.transport.limits import DEADLINE_PROGRESS, DEFAULT_MAX_CONNECTIONS, ServerLimits, raise_open_file_limit

log = logging.getLogger(__name__)

DEFAULT_PORTS = {Protocol.SMTP: 2525, Protocol.POP3: 1110, Protocol.IMAP: 1143}
# How long each protocol's RFC says a server should wait for an idle client:
# SMTP at least 5 minutes (RFC 5321 §4.5.3.2.7), POP3 at least 10 (RFC 1939 §3),
# IMAP's autologout at least 30 (RFC 3501 §5.4).
DEFAULT_IDLE_TIMEOUTS = {Protocol.SMTP: 300.0, Protocol.POP3: 600.0, Protocol.IMAP: 1800.0}

_session_numbers = itertools.count(1)


def next_session_id(protocol: Protocol, origin: str = "tcp") -> str:
    """Session ids unique within the process: `tcp-smtp-3`, `console-imap-7`."""
    return f"{origin}-{protocol.value}-{next(_session_numbers)}"


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    ports: dict[Protocol, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    max_connections: int = DEFAULT_MAX_CONNECTIONS  # all protocols together
    idle_timeout: float | None = None  # None: each protocol's RFC default
    session_config: SessionConfig | None = None
    limits: ServerLimits = field(default_factory=ServerLimits)


class SessionConnection(asyncio.Protocol):
    """One client connection driving one engine session.

    Activity is a command the engine could read whole (a line, a literal, a block of
    DATA), a long literal still flowing (64 KiB at a time), or the client taking its
    answers: only that resets the idle timer, and a command begun must be completed
    within the line deadline. Output is produced only as the socket drains, and while
    it does not, the client's input is not read.
    """

    def __init__(self, server: "MailServers", protocol: Protocol) -> None:
        self.server = server
        self.protocol = protocol
        self.address = ""
        self.session: Session | None = None
        self.transport: asyncio.Transport | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._received = 0          # octets read from the socket so far
        self._received_mark = 0     # ... when the deadline was last armed
        self._activity_mark = 0     # ... at the last activity
        self._progressed = False    # the engine read a whole command since last look
        self._held = bytearray()    # output waiting out a deliberate delay
        self._delayed = False
        self._closing = False
        self._write_paused = False

    @property
    def limits(self) -> ServerLimits:
        return self.server.options.limits

    # -- asyncio callbacks ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=self.limits.write_buffer)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peername = transport.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else ""
        self.address = str(peername[0]) if peername else ""
        engine = ENGINES[self.protocol]
        self.session = engine(
            self.server.store,
            session_id=next_session_id(self.protocol),
            peer=peer,
            config=self.server.options.session_config,
        )
        self.session.on_output = self._session_pushed
        self.session.stream_threshold = self.limits.stream_chunk
        self.session.throttle = self.server.throttle
        refusal = self.server.admit(self)
        if refusal is None:
            self.session.start()
        else:
            self.session.refuse_busy(refusal or None)
        self._flush()
        self._reset_idle()

    def data_received(self, data: bytes) -> None:
        if self.session is None:
            return
        self._received += len(data)
        self.session.receive_data(data)
        self._flush()

    def eof_received(self) -> bool | None:
        return None  # let asyncio close; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.release(self)
        for timer in (self._idle, self._deadline):
            if timer is not None:
                timer.cancel()
        self._held = bytearray()
        if self.session is not None:
            if not self.session.closed:
                self.session.receive_eof()
            self._publish()
            self.session.on_output = None

    def pause_writing(self) -> None:
        # asyncio: the send buffer is over its mark. Produce nothing more and read
        # nothing more from this client until it takes what it was sent.
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._update_reading()
        self._reset_idle()  # the client is reading: that is activity
        self._flush_if_open()

    # -- plumbing -----------------------------------------------------------------------

    def _publish(self) -> None:
        assert self.session is not None
        events = self.session.events()
        if events:
            if not self._progressed:
                self._progressed = any(isinstance(event, ClientLine) for event in events)
            self.server.bus.publish_all(events)

    def _flush(self) -> None:
        session, transport = self.session, self.transport
        assert session is not None and transport is not None
        self._publish()
        if self._write_paused or self._delayed or transport.is_closing():
            return  # resume_writing / _release come back here
        out = session.data_to_send()
        self._publish()  # what data_to_send() itself produced (a streamed answer's next piece)
        delay = session.take_delay()
        if delay > 0:
            self._delayed = True
            self._held += out
            self._update_reading()
            asyncio.get_running_loop().call_later(delay, self._release)
            return
        if out:
            transport.write(out)  # may call pause_writing() at once
        if session.has_more_output:
            if not self._write_paused:
                asyncio.get_running_loop().call_soon(self._flush_if_open)
        elif session.closed and not self._closing:
            self._closing = True
            transport.close()
        self._watch_input()

    def _update_reading(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._write_paused or self._delayed:
            transport.pause_reading()
        else:
            transport.resume_reading()

    def _session_pushed(self) -> None:
        # Called from inside whatever changed the store (maybe another connection's
        # command): send on the next loop turn, not in the middle of that command.
        asyncio.get_running_loop().call_soon(self._flush_if_open)

    def _flush_if_open(self) -> None:
        if self.session is not None and self.transport is not None and not self.transport.is_closing():
            self._flush()

    def _release(self) -> None:
        self._delayed = False
        if self.transport is None or self.transport.is_closing():
            return
        held, self._held = bytes(self._held), bytearray()
        if held:
            self.transport.write(held)
        self._update_reading()
        self._flush()

    # -- timers ---------------------------------------------------------------------------

    def _watch_input(self) -> None:
        """After each turn: a whole command read is activity; a command begun and
        not finished starts the line deadline (unless the server is the one behind)."""
        session = self.session
        assert session is not None
        if self._progressed:
            self._progressed = False
            self._activity_mark = self._received
            self._reset_idle()
            self._cancel_deadline()
        elif self._received - self._activity_mark >= DEADLINE_PROGRESS:
            self._activity_mark = self._received  # a long literal flowing is activity too
            self._reset_idle()
        unfinished = (
            session.reader.buffered > 0
            and not session.closed
            and not session.has_more_output
            and not self._write_paused
            and not self._delayed
        )
        if not unfinished:
            self._cancel_deadline()
        elif self._deadline is None and self.limits.line_deadline > 0:
            self._received_mark = self._received
            self._deadline = asyncio.get_running_loop().call_later(self.limits.line_deadline, self._on_deadline)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if self.session is None or self.session.closed or self._closing:
            return
        if self._received - self._received_mark >= DEADLINE_PROGRESS:
            self._watch_input()  # a long literal still flowing: give it another period
            return
        self.session.receive_deadline(self.limits.line_deadline)
        self._end_session()

    def _reset_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        timeout = self.server.options.idle_timeout
        if timeout is None:
            timeout = DEFAULT_IDLE_TIMEOUTS[self.protocol]
        if timeout > 0 and not self._closing:
            self._idle = asyncio.get_running_loop().call_later(timeout, self._on_idle)

    def _on_idle(self) -> None:
        if self.session is not None and not self.session.closed:
            self.session.receive_timeout()
            self._end_session()

    def _end_session(self) -> None:
        """Send the session's last words; a client that is not reading gets none
        (they would wait in memory for it): the connection is simply dropped."""
        if self._write_paused and self.transport is not None:
            self._publish()
            self._closing = True
            self.transport.abort()
            return
        self._flush()

    def shutdown(self) -> None:
        if self.session is not None and not self.session.closed:
            self.session.shutdown()
            self._end_session()


class MailServers:
    """The SMTP, POP3 and IMAP listeners of one store, sharing one Bus."""

    def __init__(self, store: MailStore, bus: Bus, options: ServerOptions | None = None) -> None:
        self.store = store
        self.bus = bus
        self.options = options or ServerOptions()
        self.connections: set[SessionConnection] = set()  # admitted ones
        self.throttle = LoginThrottle(self.options.limits.login)
        self._by_address: Counter[str] = Counter()
        self._by_protocol: Counter[Protocol] = Counter()
        self._servers: dict[Protocol, asyncio.Server] = {}

    def admit(self, connection: SessionConnection) -> int | None:
        """Take a slot for a new connection. None: admitted; otherwise refused, with
        the per-address limit when that is the one reached (0 for the others)."""
        limits = self.options.limits
        if self._by_address[connection.address] >= limits.max_per_address:
            return limits.max_per_address
        if (
            len(self.connections) >= self.options.max_connections
            or self._by_protocol[connection.protocol] >= limits.max_per_protocol
        ):
            return 0
        self.connections.add(connection)
        self._by_address[connection.address] += 1
        self._by_protocol[connection.protocol] += 1
        return None

    def release(self, connection: SessionConnection) -> None:
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        for counter, key in ((self._by_address, connection.address), (self._by_protocol, connection.protocol)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]

    async def start(self) -> dict[Protocol, tuple[str, int]]:
        """Listen on every configured protocol that has an engine; returns addresses."""
        loop = asyncio.get_running_loop()
        raise_open_file_limit(self.options.max_connections + 64)
        addresses: dict[Protocol, tuple[str, int]] = {}
        for protocol, port in self.options.ports.items():
            if protocol not in ENGINES:
                continue
            factory: Callable[[], asyncio.Protocol] = lambda p=protocol: SessionConnection(self, p)
            server = await loop.create_server(factory, self.options.host, port, reuse_address=True)
            self._servers[protocol] = server
            sockname = server.sockets[0].getsockname()
            addresses[protocol] = (sockname[0], sockname[1])
        return addresses

    async def stop(self) -> None:
        """Stop listening, tell connected clients the service is closing, and wait."""
        for server in self._servers.values():
            server.close()
        for connection in tuple(self.connections):
            connection.shutdown()
        for server in self._servers.values():
            await server.wait_closed()
        self._servers.clear()
