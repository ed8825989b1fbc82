"""`mailsim watch`: a transparent TCP relay that explains what passes through it.

A real client (Thunderbird, mutt, curl, a phone) connects to the relay's port; the
relay connects to the real server and copies bytes both ways unchanged. Each
conversation's two streams go through the protocol's dialog observer, whose events
(read-only: nobody types into it) go onto the Bus, so the app shows it with every
teaching view, the recorder writes it, and the wire log prints it.

Not the in-process relaying between mailsim's own domains: this one sits between two
real sockets and never speaks for either end.
"""

from __future__ import annotations

import asyncio
import itertools
import socket

from mailsim.clock import Clock
from mailsim.events import Protocol
from mailsim.protocol.observer import DialogObserver
from mailsim.transcript.bus import Bus
from mailsim.transport.client import DEFAULT_CONNECT_TIMEOUT, ServerAddress, observer_for

# The port a server listens on usually tells its protocol (mailsim's stand-ins included).
PROTOCOL_OF_PORT = {
    25: Protocol.SMTP, 587: Protocol.SMTP, 2525: Protocol.SMTP,
    110: Protocol.POP3, 1110: Protocol.POP3,
    143: Protocol.IMAP, 1143: Protocol.IMAP,
}

_watch_numbers = itertools.count(1)


def guess_protocol(port: int) -> Protocol | None:
    return PROTOCOL_OF_PORT.get(port)


class _Side(asyncio.Protocol):
    """One socket of a relayed conversation; `peer` is the other one."""

    def __init__(self, conversation: "_Conversation", is_client: bool) -> None:
        self.conversation = conversation
        self.is_client = is_client
        self.transport: asyncio.Transport | None = None
        self.peer: "_Side | None" = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.is_client:
            self.conversation.client_arrived(self)
        else:
            self.conversation.server_arrived(self)

    def data_received(self, data: bytes) -> None:
        self.conversation.passed(self, data)

    def eof_received(self) -> bool | None:
        if self.is_client:
            # The client is done sending (a half-close after QUIT, say): pass that on
            # and keep the way back open for the server's last words.
            self.conversation.client_done()
            return True
        return None  # the server closed: connection_lost ends the conversation

    def connection_lost(self, exc: Exception | None) -> None:
        self.conversation.ended(self)

    # Backpressure: when one side cannot take more, stop reading the other.
    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _Conversation:
    def __init__(self, relay: "WatchRelay") -> None:
        self.relay = relay
        self.client: _Side | None = None
        self.server: _Side | None = None
        self.observer: DialogObserver | None = None
        self.closed = False

    def client_arrived(self, side: _Side) -> None:
        assert side.transport is not None
        self.client = side
        peername = side.transport.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else ""
        relay = self.relay
        session_id = f"watch-{relay.protocol.value}-{next(_watch_numbers)}"
        self.observer = observer_for(relay.protocol)(session_id=session_id, peer=peer, clock=relay.clock)
        self.observer.seen.server = f"{relay.target.host}:{relay.target.port}"
        relay.observers[session_id] = self.observer
        self.observer.start()
        relay.opened(self)
        side.transport.pause_reading()  # until the server is there to take the bytes
        self._publish()
        asyncio.get_running_loop().create_task(self._reach_server())

    def server_arrived(self, side: _Side) -> None:
        """Paired at once: the server may greet before the connecting coroutine resumes."""
        assert self.client is not None
        self.server, side.peer, self.client.peer = side, self.client, side

    async def _reach_server(self) -> None:
        relay, observer = self.relay, self.observer
        assert observer is not None and self.client is not None
        target = relay.target
        loop = asyncio.get_running_loop()
        try:
            _transport, server = await asyncio.wait_for(
                loop.create_connection(lambda: _Side(self, False), target.host, target.port), relay.connect_timeout
            )
        except ConnectionRefusedError:
            self._give_up("dialog.refused", "connection refused", host=target.host, port=target.port)
            return
        except (TimeoutError, asyncio.TimeoutError):
            self._give_up("dialog.timeout", "connection timed out", host=target.host, port=target.port,
                          seconds=relay.connect_timeout)
            return
        except OSError as exc:
            self._give_up("dialog.unreachable", "host unreachable", host=target.host, error=exc.strerror or str(exc))
            return
        if self.closed:
            assert server.transport is not None
            server.transport.close()
            return
        assert self.client.transport is not None
        self.client.transport.resume_reading()

    def _give_up(self, key: str, reason: str, **params: object) -> None:
        assert self.observer is not None and self.client is not None and self.client.transport is not None
        self.observer.note(key, **params)
        self.observer.abort(reason)
        self.closed = True
        self.client.transport.close()
        self._publish()
        self.relay.finished(self)

    def passed(self, side: _Side, data: bytes) -> None:
        observer, other = self.observer, side.peer
        if observer is None or other is None or other.transport is None:
            return
        other.transport.write(data)
        if side.is_client:
            observer.client_data(data)
        else:
            observer.server_data(data)
        self._publish()

    def client_done(self) -> None:
        server = self.server
        if server is not None and server.transport is not None and server.transport.can_write_eof():
            server.transport.write_eof()

    def ended(self, side: _Side) -> None:
        if self.closed:
            return
        self.closed = True
        other = side.peer
        if other is not None and other.transport is not None and not other.transport.is_closing():
            other.transport.close()  # what was written still goes out first
        if self.observer is not None:
            if side.is_client:
                self.observer.client_eof()
            else:
                self.observer.server_eof()
            self._publish()
        self.relay.finished(self)

    def close(self) -> None:
        for side in (self.client, self.server):
            if side is not None and side.transport is not None:
                side.transport.close()

    def _publish(self) -> None:
        if self.observer is not None:
            self.relay.bus.publish_all(self.observer.events())


class WatchRelay:
    """Listens on `host:port`; relays each connection to `target`; publishes what it sees."""

    def __init__(
        self,
        target: ServerAddress,
        bus: Bus | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.target = target
        self.protocol = target.protocol
        self.bus = bus or Bus()
        self.host, self.port = host, port
        self.clock = clock
        self.connect_timeout = connect_timeout
        self.conversations: set[_Conversation] = set()
        self.observers: dict[str, DialogObserver] = {}  # every conversation's, by session id
        self._server: asyncio.Server | None = None
        self._quiet = asyncio.Event()
        self._quiet.set()

    def opened(self, conversation: _Conversation) -> None:
        self.conversations.add(conversation)
        self._quiet.clear()

    def finished(self, conversation: _Conversation) -> None:
        self.conversations.discard(conversation)
        if not self.conversations:
            self._quiet.set()

    async def quiet(self) -> None:
        """Wait until no conversation is open (every one seen so far has ended)."""
        await self._quiet.wait()

    async def start(self, bus: Bus | None = None) -> tuple[str, int]:
        """Start listening (publishing on `bus`, when given here); returns the address
        (port 0 picks a free one)."""
        if bus is not None:
            self.bus = bus
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Side(_Conversation(self), True), self.host, self.port, reuse_address=True
        )
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], sockname[1]
        return self.host, self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for conversation in tuple(self.conversations):
                conversation.close()
            await self._server.wait_closed()
            self._server = None
