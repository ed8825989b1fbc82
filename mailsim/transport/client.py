"""A console session whose bytes go over TCP to any server (`mailsim connect`).

The student types, the bytes go to the server exactly as typed (plus CRLF), and the
server's bytes come back; both streams go through the protocol's dialog observer,
whose events are published on the Bus as an engine's would be. So the UI drives a
`RemoteConnection` exactly as it drives the in-process `ConsoleConnection`: both are
a `Connection`.

What goes wrong on a real network (no such host, refused, no answer, a TLS-only port,
a server that hangs up mid-command) is said in the session as `dialog.*` notes, in
the student's language, never as a traceback.

TLS: `smtps://`, `pop3s://` and `imaps://` start TLS before the first byte (RFC 8314);
on a plain URL, a STARTTLS/STLS the server says yes to upgrades the socket before
anything else is sent. mailsim is the TLS endpoint, so it reads the plaintext and the
observer keeps explaining. The certificate is checked against the system's trust
store plus mailsim's own local CA (`ca.pem`, so `mailsim serve` is trusted out of the
box); one that fails is a note with its fingerprint and how to trust it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol as Interface

from mailsim.clock import Clock
from mailsim.events import Protocol
from mailsim.protocol.base import CRLF
from mailsim.protocol.observer import DialogObserver, Gate
from mailsim.transcript.bus import Bus
from mailsim.transport import tls
from mailsim.transport.tls_tcp import upgrade_client

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_GREETING_TIMEOUT = 10.0
# The real ports, for a URL that names none.
STANDARD_PORTS = {Protocol.SMTP: 25, Protocol.POP3: 110, Protocol.IMAP: 143}
# The real implicit-TLS ports (RFC 8314: submissions, pop3s, imaps).
IMPLICIT_TLS_PORTS = {Protocol.SMTP: 465, Protocol.POP3: 995, Protocol.IMAP: 993}
DEFAULT_TLS_TIMEOUT = 10.0


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

    @property
    def _holding(self) -> bool:
        return self._transport is None or self._upgrading or self.session.gate is Gate.TLS

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
    tls: bool = False    # implicit TLS: TLS from the first byte (smtps://, pop3s://, imaps://)
    verify: bool = True  # check the server's certificate (False: `--insecure`)

    def __str__(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        return f"{self.protocol.value}{'s' if self.tls else ''}://{self.host}:{self.port}"


def parse_server_url(
    text: str, default_ports: dict[Protocol, int] = STANDARD_PORTS, *, allow_tls: bool = False
) -> ServerAddress:
    """`imap://host:1143` -> ServerAddress; ValueError with what is wrong. Without a
    port: `default_ports` (the real ones; the testbench uses mailsim's stand-ins).
    `allow_tls`: `smtps://`, `pop3s://`, `imaps://` too (default ports 465, 995, 993)."""
    parsed = urllib.parse.urlsplit(text)
    scheme = parsed.scheme.lower()
    implicit = allow_tls and scheme in ("smtps", "pop3s", "imaps")
    try:
        protocol = Protocol(scheme[:-1] if implicit else scheme)
    except ValueError:
        schemes = "smtp://, pop3://, imap:// (or smtps://, pop3s://, imaps://)" if allow_tls else "smtp://, pop3:// or imap://"
        raise ValueError(f"{text!r}: the URL must start with {schemes}") from None
    try:
        port = parsed.port
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535") from None
    if not parsed.hostname:
        raise ValueError(f"{text!r}: no host name")
    return ServerAddress(protocol, parsed.hostname, port or (IMPLICIT_TLS_PORTS if implicit else default_ports)[protocol],
                         tls=implicit)


def trust_context(verify: bool = True, cafile: Path | None = None) -> ssl.SSLContext:
    """The system's trust store plus mailsim's local CA (`cafile`, by default the one
    `mailsim serve` made in the user data directory, when there is one)."""
    if cafile is None:
        local = tls.default_directory() / "ca.pem"
        cafile = local if local.exists() else None
    return tls.client_context(cafile, verify=verify)


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
        tls_timeout: float = DEFAULT_TLS_TIMEOUT,
        cafile: Path | None = None,
    ) -> None:
        self.address = address
        self.bus = bus
        self.session = observer_for(address.protocol)(
            session_id=session_id, peer=f"{address.host}:{address.port}", clock=clock, tls_endpoint=True
        )
        self.connect_timeout = connect_timeout
        self.greeting_timeout = greeting_timeout
        self.tls_timeout = tls_timeout
        self.cafile = cafile
        self._transport: asyncio.Transport | None = None
        self._wire: _Wire | None = None
        self._upgrading = False
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
        if not self.address.verify:
            self.session.note("dialog.tls-insecure")
        self._publish()
        self._task = asyncio.get_running_loop().create_task(self._connect())

    def send_line(self, text: str) -> None:
        self.send_bytes(text.encode("utf-8") + CRLF)

    def send_bytes(self, data: bytes) -> None:
        if self.closed:
            return
        if self._holding:
            # Not connected yet, or STARTTLS is waiting for its answer or handshake:
            # nothing may follow it in cleartext (RFC 3207 §4.2, RFC 2595 §4).
            self._waiting.append(data)
            return
        assert self._transport is not None
        self._transport.write(data)
        self.session.client_data(data)
        self._publish()

    @property
    def _holding(self) -> bool:
        return self._transport is None or self._upgrading or self.session.gate is Gate.TLS

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
        secure: dict[str, Any] = {}
        try:
            if self.address.tls:
                secure = {"ssl": self._context(), "server_hostname": host, "ssl_handshake_timeout": self.tls_timeout}
            await asyncio.wait_for(loop.create_connection(lambda: _Wire(self), host, port, **secure),
                                   self.connect_timeout + (self.tls_timeout if secure else 0))
        except asyncio.CancelledError:
            raise
        except ssl.SSLCertVerificationError as exc:
            await self._untrusted(exc)
        except ssl.SSLError as exc:
            self._tls_failed(exc)
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
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:  # implicit TLS: the handshake came first
            self.session.tls_started(tls.peer_params(ssl_object), implicit=True)
            self._publish()
        self._silence = asyncio.get_running_loop().call_later(self.greeting_timeout, self._silent)
        self._send_waiting()

    def _send_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for data in waiting:
            self.send_bytes(data)

    def _received(self, data: bytes) -> None:
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None
        self.session.server_data(data)
        self._publish()
        if self.session.tls_requested and not self._upgrading:
            self._upgrading = True
            assert self._transport is not None
            self._transport.pause_reading()  # nothing more is read in cleartext
            self._task = asyncio.get_running_loop().create_task(self._upgrade())
        elif self._waiting and not self._holding:
            self._send_waiting()  # STARTTLS refused: what was typed after it goes now

    # -- TLS -------------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        return trust_context(self.address.verify, self.cafile)

    async def _upgrade(self) -> None:
        """STARTTLS/STLS said yes: the client's side of the handshake, on this socket."""
        assert self._transport is not None and self._wire is not None
        try:
            secure = await upgrade_client(self._transport, self._wire, self._context(), self.address.host,
                                          self.tls_timeout)
        except asyncio.CancelledError:
            raise
        except ssl.SSLCertVerificationError as exc:
            self._transport.abort()
            await self._untrusted(exc)
            return
        except (ssl.SSLError, ConnectionError, OSError, asyncio.TimeoutError) as exc:
            self._transport.abort()
            self._tls_failed(exc)
            return
        self._transport, self._upgrading = secure, False
        self.session.tls_started(tls.peer_params(secure.get_extra_info("ssl_object")))
        self._publish()
        self._send_waiting()

    async def _untrusted(self, exc: ssl.SSLCertVerificationError) -> None:
        """Say what failed, the certificate's fingerprint (read over a second, unchecked
        connection) and how to trust it."""
        found = await probe_certificate(self.address, self.tls_timeout)
        subject, fingerprint = found if found is not None else ("?", "?")
        self.session.tls_failed(
            "dialog.tls-untrusted", reason=exc.verify_message or exc.reason or str(exc), subject=subject,
            fingerprint=fingerprint, ca=tls.default_directory() / "ca.pem",
        )
        self._publish()

    def _tls_failed(self, exc: BaseException) -> None:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        self.session.tls_failed("dialog.tls-failed", reason=reason)
        self._publish()

    def _lost(self, exc: Exception | None) -> None:
        if self._silence is not None:
            self._silence.cancel()
        if self.closed or self._upgrading:  # a failed handshake is said by `_upgrade`
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


# What `probe_certificate` says before STARTTLS, and the line that ends each answer.
_PROBE_DIALOG = {
    Protocol.SMTP: [(b"", rb"^\d{3} "), (b"EHLO mailsim.probe\r\n", rb"^\d{3} "), (b"STARTTLS\r\n", rb"^220 ")],
    Protocol.POP3: [(b"", rb"^\+OK"), (b"STLS\r\n", rb"^\+OK")],
    Protocol.IMAP: [(b"", rb"^\* OK"), (b"p STARTTLS\r\n", rb"^p OK")],
}


async def probe_certificate(address: ServerAddress, timeout: float = DEFAULT_TLS_TIMEOUT) -> tuple[str, str] | None:
    """(subject, SHA-256 fingerprint) of a server's certificate, read without checking
    it over a connection of its own (and STARTTLS on a plain URL); None if it cannot."""
    unchecked = tls.client_context(verify=False)

    async def read() -> tuple[str, str]:
        reader, writer = await asyncio.open_connection(
            address.host, address.port, **({"ssl": unchecked, "server_hostname": address.host} if address.tls else {})
        )
        try:
            if not address.tls:
                for say, last in _PROBE_DIALOG[address.protocol]:
                    writer.write(say)
                    while not re.match(last, await reader.readline()):
                        if reader.at_eof():
                            raise ConnectionError("no go-ahead")
                await writer.start_tls(unchecked, server_hostname=address.host)
            params = tls.peer_params(writer.get_extra_info("ssl_object"))
            return params.subject, params.fingerprint
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(read(), timeout)
    except (OSError, ssl.SSLError, ConnectionError, asyncio.TimeoutError):
        return None


class _Wire(asyncio.Protocol):
    def __init__(self, owner: RemoteConnection) -> None:
        self.owner = owner
        owner._wire = self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.owner._made(transport)

    def data_received(self, data: bytes) -> None:
        self.owner._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost(exc)
