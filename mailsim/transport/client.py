"""A console session whose bytes go over TCP to any server (`mailsim connect`).

The student types, the bytes go to the server exactly as typed (plus CRLF), and the
server's bytes come back; both streams go through the protocol's dialog observer,
whose events are published on the Bus as an engine's would be. So the UI drives a
`RemoteConnection` exactly as it drives the in-process `ConsoleConnection`: both are
a `Connection`.

What goes wrong on a real network (no such host, refused, no answer, a TLS-only port,
a server that hangs up mid-command) is said in the session as `dialog.*` notes, in
the student's language, never as a traceback.
"""

from __future__ import annotations

import asyncio
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol as Interface

from mailsim.clock import Clock
from mailsim.events import Protocol
from mailsim.protocol.base import CRLF
from mailsim.protocol.observer import DialogObserver, Gate
from mailsim.transcript.bus import Bus

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_GREETING_TIMEOUT = 10.0
# The real ports, for a URL that names none.
STANDARD_PORTS = {Protocol.SMTP: 25, Protocol.POP3: 110, Protocol.IMAP: 143}


class Connection(Interface):
    """What the UI drives a console session through, in-process or over TCP."""

    session: Any  # the engine session or the observer: what the dialog made known

    @property
    def closed(self) -> bool: ...

    @property
    def busy(self) -> bool: ...

    def open(self) -> None: ...

    def send_line(self, text: str) -> None: ...

    def send_bytes(self, data: bytes) -> None: ...

    def hang_up(self) -> None: ...


def observer_for(protocol: Protocol) -> type[DialogObserver]:
    """The dialog observer of a protocol (imported on first use, as engines are)."""
    if protocol is Protocol.SMTP:
        from mailsim.protocol.smtp_observer import SmtpObserver

        return SmtpObserver
    if protocol is Protocol.POP3:
        from mailsim.protocol.pop3_observer import Pop3Observer

        return Pop3Observer
    from mailsim.protocol.imap.observer import ImapObserver

    return ImapObserver


@dataclass(frozen=True)
class ServerAddress:
    protocol: Protocol
    host: str
    port: int

    def __str__(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        return f"{self.protocol.value}://{self.host}:{self.port}"


def parse_server_url(text: str, default_ports: dict[Protocol, int] = STANDARD_PORTS) -> ServerAddress:
    """`imap://host:1143` -> ServerAddress; ValueError with what is wrong. Without a
    port: `default_ports` (the real ones; the testbench uses mailsim's stand-ins)."""
    parsed = urllib.parse.urlsplit(text)
    try:
        protocol = Protocol(parsed.scheme.lower())
    except ValueError:
        raise ValueError(f"{text!r}: the URL must start with smtp://, pop3:// or imap://") from None
    try:
        port = parsed.port
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535") from None
    if not parsed.hostname:
        raise ValueError(f"{text!r}: no host name")
    return ServerAddress(protocol, parsed.hostname, port or default_ports[protocol])


class RemoteConnection:
    """One console session to a real server over TCP, explained by an observer."""

    def __init__(
        self,
        address: ServerAddress,
        bus: Bus,
        *,
        session_id: str,
        clock: Clock | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        greeting_timeout: float = DEFAULT_GREETING_TIMEOUT,
    ) -> None:
        self.address = address
        self.bus = bus
        self.session = observer_for(address.protocol)(
            session_id=session_id, peer=f"{address.host}:{address.port}", clock=clock
        )
        self.connect_timeout = connect_timeout
        self.greeting_timeout = greeting_timeout
        self._transport: asyncio.Transport | None = None
        self._waiting: list[bytes] = []  # typed before the connection was up
        self._task: asyncio.Task[None] | None = None
        self._silence: asyncio.TimerHandle | None = None
        self._hung_up = False
        self.connected = asyncio.Event()  # set once connected, or once it failed

    @property
    def closed(self) -> bool:
        return self.session.closed

    @property
    def busy(self) -> bool:
        """True while what was sent waits on the server's answer to mean anything (a
        synchronising literal before its "+"), or while connecting."""
        return not self.closed and (self._transport is None or self.session.gate is not Gate.OPEN)

    def open(self) -> None:
        self.session.start()
        self.session.note("dialog.connecting", host=self.address.host, port=self.address.port)
        self._publish()
        self._task = asyncio.get_running_loop().create_task(self._connect())

    def send_line(self, text: str) -> None:
        self.send_bytes(text.encode("utf-8") + CRLF)

    def send_bytes(self, data: bytes) -> None:
        if self.closed:
            return
        if self._transport is None:
            self._waiting.append(data)
            return
        self._transport.write(data)
        self.session.client_data(data)
        self._publish()

    def hang_up(self) -> None:
        """The student closed the tab: close the socket; the server sees the client go."""
        self._hung_up = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._transport is not None:
            self._transport.close()
        if not self.closed:
            self.session.client_eof()
            self._publish()

    # -- the socket ----------------------------------------------------------------------

    async def _connect(self) -> None:
        host, port = self.address.host, self.address.port
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.create_connection(lambda: _Wire(self), host, port), self.connect_timeout)
        except asyncio.CancelledError:
            raise
        except ConnectionRefusedError:
            self._failed("dialog.refused", "connection refused", host=host, port=port)
        except (TimeoutError, asyncio.TimeoutError):
            self._failed("dialog.timeout", "connection timed out", host=host, port=port, seconds=self.connect_timeout)
        except socket.gaierror as exc:
            self._failed("dialog.unreachable", "host unreachable", host=host, error=exc.strerror or str(exc))
        except OSError as exc:
            self._failed("dialog.unreachable", "host unreachable", host=host, error=exc.strerror or str(exc))
        finally:
            self.connected.set()

    def _failed(self, key: str, reason: str, **params: object) -> None:
        self.session.note(key, **params)
        self.session.abort(reason)
        self._publish()

    def _made(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        if self._hung_up:
            transport.close()
            return
        self._silence = asyncio.get_running_loop().call_later(self.greeting_timeout, self._silent)
        waiting, self._waiting = self._waiting, []
        for data in waiting:
            self.send_bytes(data)

    def _received(self, data: bytes) -> None:
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None
        self.session.server_data(data)
        self._publish()

    def _lost(self, exc: Exception | None) -> None:
        if self._silence is not None:
            self._silence.cancel()
        if self.closed:
            return
        if exc is not None and not self._hung_up:
            self.session.note("dialog.lost", error=str(exc) or type(exc).__name__)
        if self._hung_up:
            self.session.client_eof()
        else:
            self.session.server_eof()
        self._publish()

    def _silent(self) -> None:
        self._silence = None
        if not self.closed:
            self.session.note("dialog.silent", seconds=self.greeting_timeout)
            self._publish()

    def _publish(self) -> None:
        self.bus.publish_all(self.session.events())


class _Wire(asyncio.Protocol):
    def __init__(self, owner: RemoteConnection) -> None:
        self.owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.owner._made(transport)

    def data_received(self, data: bytes) -> None:
        self.owner._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost(exc)
