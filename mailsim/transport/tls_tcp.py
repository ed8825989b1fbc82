"""The TCP transport's TLS: the STARTTLS/STLS upgrade of a live connection and the
handshake of an implicit-TLS port (RFC 8314), both with `loop.start_tls`.

Implicit-TLS ports listen in cleartext and start TLS as soon as a client connects, so
a failed handshake (a client speaking plain text to a TLS port, a client that does not
trust the certificate) is ours to report: the session gets a note and closes, and the
server keeps serving. `tcp.py` calls in here from two small hooks.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING

from mailsim.transport.tls import params_of

if TYPE_CHECKING:
    from mailsim.transport.tcp import SessionConnection

# First octet of a TLS record carrying a handshake (RFC 8446 §5.1): how a ClientHello
# sent to a cleartext port is recognised.
TLS_HANDSHAKE_RECORD = 0x16


def start_tls(connection: "SessionConnection", *, implicit: bool) -> None:
    """Begin the handshake on `connection`; the engine hears how it ended."""
    transport = connection.transport
    assert transport is not None
    transport.pause_reading()  # nothing read in cleartext now reaches the engine
    connection.upgrading = True
    asyncio.get_running_loop().create_task(_handshake(connection, implicit=implicit))


async def _handshake(connection: "SessionConnection", *, implicit: bool) -> None:
    server = connection.server
    material = server.options.tls
    session, transport = connection.session, connection.transport
    assert material is not None and session is not None and transport is not None
    loop = asyncio.get_running_loop()
    try:
        secure = await loop.start_tls(
            transport,
            connection,
            server.tls_context,
            server_side=True,
            ssl_handshake_timeout=server.options.tls_handshake_timeout,
        )
    except (ssl.SSLError, ConnectionError, OSError, asyncio.TimeoutError, RuntimeError) as exc:
        connection.upgrading = False
        if not transport.is_closing():
            transport.abort()
        session.tls_failed(describe_failure(exc, implicit=implicit))
        connection.publish_now()
        connection.connection_lost(exc)  # asyncio will not call it: the TLS layer had the socket
        return
    connection.upgrading = False
    if secure is None:  # the client went away during the handshake
        connection.connection_lost(None)
        return
    connection.transport = secure
    params = params_of(secure.get_extra_info("ssl_object"), material)
    if implicit and connection.refusal is not None:
        session.refuse_busy(connection.refusal or None)  # said over TLS, where the client can read it
    elif implicit:
        session.start(tls=params)
    else:
        session.tls_started(params)
    connection.after_tls()


def describe_failure(exc: BaseException, *, implicit: bool) -> str:
    """The reason shown to the student, in the terms of the mistake made."""
    reason = getattr(exc, "reason", None) or type(exc).__name__
    if implicit and reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNEXPECTED_RECORD", "RECORD_LAYER_FAILURE"):
        return f"{reason}: the client spoke plain text to a TLS port"
    if isinstance(exc, asyncio.TimeoutError):
        return "the client never completed the handshake"
    return str(reason)


async def upgrade_client(
    transport: asyncio.BaseTransport,
    protocol: asyncio.BaseProtocol,
    context: ssl.SSLContext,
    server_hostname: str,
    timeout: float = 30.0,
) -> asyncio.Transport:
    """The client's side of STARTTLS/STLS on a TCP client transport (for `mailsim
    connect`): call it after the server's go-ahead reply; returns the encrypted
    transport. `tls.client_context(cafile)` makes the context; `params_of` on the
    result's `ssl_object` gives what to show of the handshake."""
    loop = asyncio.get_running_loop()
    secure = await loop.start_tls(
        transport, protocol, context, server_side=False, server_hostname=server_hostname, ssl_handshake_timeout=timeout
    )
    if secure is None:
        raise ConnectionError("the server closed the connection during the TLS handshake")
    return secure
