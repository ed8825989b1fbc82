"""The wrong kind of client on the wrong port: a TLS ClientHello to a cleartext port,
plain text to an implicit-TLS port. Each gets a clear answer or a clean close, the
student is told why, and the server keeps serving."""

from __future__ import annotations

import smtplib
import socket
import ssl

import pytest
from running_servers import RunningServers

from mailsim.events import Closed, Connected, Note, Protocol
from mailsim.transport.tls import MemoryTls, client_context
from .conftest import implicit_port

pytestmark = pytest.mark.network


def client_hello() -> bytes:
    endpoint = MemoryTls(client_context(verify=False), server_side=False, server_hostname="localhost")
    assert not endpoint.handshake()
    hello = endpoint.wire_out()
    assert hello[:2] == b"\x16\x03"
    return hello


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def _notes(servers: RunningServers, key: str) -> list[Note]:
    return servers.call(lambda: [e for e in servers.events if isinstance(e, Note) and e.key == key])


@pytest.mark.parametrize(
    ("protocol", "answer"),
    [
        (Protocol.SMTP, b"500 5.5.2 Command line is not text\r\n"),
        (Protocol.POP3, b"-ERR Command line is not text\r\n"),
        (Protocol.IMAP, b"* BAD Command line contains NUL or other control characters\r\n"),
    ],
)
def test_client_hello_to_a_cleartext_port(tls_servers, protocol, answer):
    with socket.create_connection(("127.0.0.1", tls_servers.ports[protocol]), timeout=10) as sock:
        sock.recv(4096)  # the greeting
        sock.sendall(client_hello())
        assert _read_all(sock) == answer  # the protocol's error, then the server hangs up
    assert _notes(tls_servers, "tls.hello-on-cleartext")
    _still_serving(tls_servers)


@pytest.mark.parametrize("protocol", list(Protocol))
def test_cleartext_to_an_implicit_tls_port(tls_servers, protocol):
    with socket.create_connection(("127.0.0.1", implicit_port(tls_servers, protocol)), timeout=10) as sock:
        sock.sendall(b"EHLO plain.example\r\n")
        assert _read_all(sock) == b""  # no greeting in clear: the handshake failed, closed
    [note] = _notes(tls_servers, "tls.handshake-failed")
    assert "plain text to a TLS port" in dict(note.params)["reason"]
    session = note.session_id
    kinds = [type(e) for e in tls_servers.events if e.session_id == session]
    assert kinds[0] is Connected and kinds[-1] is Closed  # a whole session, for the log and replay
    assert not tls_servers.servers.connections or all(c.session.session_id != session for c in tls_servers.servers.connections)
    _still_serving(tls_servers)


def _still_serving(servers: RunningServers) -> None:
    context = ssl._create_unverified_context()
    with smtplib.SMTP_SSL("127.0.0.1", implicit_port(servers, Protocol.SMTP), context=context, timeout=10) as client:
        assert client.noop()[0] == 250
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        assert client.noop()[0] == 250


def test_a_busy_implicit_tls_port_refuses_over_tls(store, material):
    from running_servers import start_servers

    from mailsim.protocol.base import SessionConfig

    config = SessionConfig(hostname=store.domain)
    for servers in start_servers(store, config=config, tls=material, implicit_tls_ports={Protocol.SMTP: 0},
                                 max_connections=1):
        context = ssl._create_unverified_context()
        port = implicit_port(servers, Protocol.SMTP)
        with smtplib.SMTP_SSL("127.0.0.1", port, context=context, timeout=10) as first:
            with pytest.raises(smtplib.SMTPConnectError) as refused:
                smtplib.SMTP_SSL("127.0.0.1", port, context=context, timeout=10)
            assert refused.value.smtp_code == 421  # readable: it came over TLS
            assert first.noop()[0] == 250
