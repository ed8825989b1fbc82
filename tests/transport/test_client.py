"""`mailsim connect`'s TCP client: what a user meets on a real network, said in the
session as notes (in both languages), never as a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from mailsim.events import Closed, Event, Note, Protocol, Reply
from mailsim.protocol.explain import Explainer
from mailsim.transcript.bus import Bus
from mailsim.transport.client import RemoteConnection, ServerAddress, parse_server_url
from mailsim.transport.tcp import MailServers, ServerOptions
from mailsim.store.world import build_store

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def talk(address: ServerAddress, lines: list[str], *, until_closed: bool = True, **options) -> list[Event]:
    """Open a RemoteConnection, type `lines` once connected, return what it published."""
    bus, events = Bus(), []
    closed = asyncio.Event()
    bus.subscribe(lambda e: (events.append(e), isinstance(e, Closed) and closed.set()))
    connection = RemoteConnection(address, bus, session_id="connect-test-1", **options)
    connection.open()
    await connection.connected.wait()
    for line in lines:
        connection.send_line(line)
    if until_closed:
        await asyncio.wait_for(closed.wait(), 5)
    else:
        await asyncio.sleep(0)
    connection.hang_up()
    return events


async def tiny_server(handler: Handler) -> tuple[asyncio.Server, ServerAddress]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    return server, ServerAddress(Protocol.IMAP, host, port)


def notes(events: list[Event]) -> list[Note]:
    return [e for e in events if isinstance(e, Note)]


def said(note: Note, lang: str) -> str:
    return Explainer(lang).note(note.protocol, note.key, note.params)


def test_urls() -> None:
    assert parse_server_url("imap://mail.example:1143") == ServerAddress(Protocol.IMAP, "mail.example", 1143)
    assert parse_server_url("POP3://h") == ServerAddress(Protocol.POP3, "h", 110)
    for bad in ("http://h", "smtp://", "imap://h:99999"):
        with pytest.raises(ValueError):
            parse_server_url(bad)


def test_refused() -> None:
    events = asyncio.run(talk(ServerAddress(Protocol.SMTP, "127.0.0.1", 1), []))
    assert [n.key for n in notes(events)] == ["dialog.connecting", "dialog.refused"]
    assert "refused the connection on port 1" in said(notes(events)[-1], "en")
    assert "ha rechazado la conexión en el puerto 1" in said(notes(events)[-1], "es")
    assert events[-1].reason == "connection refused"


def test_unknown_host() -> None:
    events = asyncio.run(talk(ServerAddress(Protocol.IMAP, "no-such-host.invalid", 143), [], connect_timeout=3))
    assert notes(events)[-1].key in ("dialog.unreachable", "dialog.timeout")
    assert isinstance(events[-1], Closed)


def test_a_server_speaking_another_protocol() -> None:
    async def main() -> list[Event]:
        servers = MailServers(build_store(), Bus(), ServerOptions(ports={Protocol.IMAP: 0}))
        addresses = await servers.start()
        try:
            host, port = addresses[Protocol.IMAP]
            return await talk(ServerAddress(Protocol.POP3, host, port), ["USER alice"], until_closed=False)
        finally:
            await servers.stop()

    events = asyncio.run(main())
    other = [n for n in notes(events) if n.key == "dialog.other-protocol"]
    assert len(other) == 1 and dict(other[0].params) == {"expected": "POP3", "speaks": "IMAP"}
    assert "This server speaks IMAP, not POP3" in said(other[0], "en")
    assert not [e for e in events if isinstance(e, Reply)]  # nothing explained as POP3


def test_a_tls_only_port_answering_plain_text_with_an_alert() -> None:
    async def tls_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)  # waits for a ClientHello; plain text gets an alert
        writer.write(b"\x15\x03\x03\x00\x02\x02\x32")
        await writer.drain()
        writer.close()

    async def main() -> list[Event]:
        server, address = await tiny_server(tls_server)
        async with server:
            return await talk(address, ["a CAPABILITY"])

    events = asyncio.run(main())
    keys = [n.key for n in notes(events)]
    assert "dialog.tls-port" in keys
    tls = next(n for n in notes(events) if n.key == "dialog.tls-port")
    assert "expects TLS from the first byte" in said(tls, "en") and "espera TLS" in said(tls, "es")


def test_a_server_closing_mid_command() -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        await reader.readline()
        writer.close()

    async def main() -> list[Event]:
        server, address = await tiny_server(rude)
        async with server:
            return await talk(address, ["a LOGIN alice wonderland"])

    events = asyncio.run(main())
    assert [n.key for n in notes(events)][-1] == "dialog.closed-mid-command"
    assert events[-1].reason == "server closed the connection"


def test_the_console_and_the_remote_connection_share_one_interface() -> None:
    from mailsim.transport.client import Connection
    from mailsim.ui.console import ConsoleConnection

    members = [name for name in vars(Connection) if not name.startswith("_")]
    assert set(members) >= {"open", "send_line", "send_bytes", "hang_up", "closed", "busy"}
    for cls in (ConsoleConnection, RemoteConnection):
        assert all(hasattr(cls, name) for name in members if name != "session"), cls
