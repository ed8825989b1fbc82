"""The observers against a real reference server: Dovecot's IMAP and POP3, through
`mailsim connect`'s client and through `mailsim watch`'s relay."""

from __future__ import annotations

import asyncio
import imaplib
import poplib

from dovecot_server import PASSWORD, USER, Dovecot, dovecot  # noqa: F401  (the fixture)

from mailsim.events import ClientLine, Closed, Event, Note, Protocol, Reply, StateChanged
from mailsim.transcript.bus import Bus
from mailsim.transport.client import RemoteConnection, ServerAddress
from mailsim.transport.tap import WatchRelay


class Dialog:
    """A RemoteConnection typed into line by line, each line waiting for its answer."""

    def __init__(self, address: ServerAddress) -> None:
        self.bus, self.events = Bus(), []
        self._wanted: tuple[object, asyncio.Future[Event]] | None = None
        self.bus.subscribe(self._hear)
        self.connection = RemoteConnection(address, self.bus, session_id="connect-dovecot-1")

    def _hear(self, event: Event) -> None:
        self.events.append(event)
        if self._wanted is not None and not self._wanted[1].done() and self._wanted[0](event):  # type: ignore[operator]
            self._wanted[1].set_result(event)

    async def until(self, predicate) -> Event:
        found = next((e for e in self.events if predicate(e)), None)
        if found is not None:
            return found
        self._wanted = (predicate, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(self._wanted[1], 5)

    async def say(self, line: str, predicate) -> Event:
        self._wanted = (predicate, asyncio.get_running_loop().create_future())
        self.connection.send_line(line)
        return await asyncio.wait_for(self._wanted[1], 5)


def tagged(tag: str):
    return lambda e: isinstance(e, Reply) and e.tag == tag


def states(events: list[Event]) -> list[tuple[str, str, str]]:
    return [(e.old, e.new, e.command) for e in events if isinstance(e, StateChanged)]


def test_imap_console_to_dovecot(dovecot: Dovecot) -> None:  # noqa: F811
    async def main() -> Dialog:
        dialog = Dialog(ServerAddress(Protocol.IMAP, "127.0.0.1", dovecot.imap))
        dialog.connection.open()
        greeting = await dialog.until(lambda e: isinstance(e, Reply))
        assert greeting.code == "OK" and greeting.command == "" and "Dovecot" in greeting.text
        await dialog.say(f"a LOGIN {USER} {PASSWORD}", tagged("a"))
        go_ahead = await dialog.say("b APPEND INBOX {22}", lambda e: isinstance(e, Reply) and e.code == "+")
        assert go_ahead.command == "APPEND"
        dialog.connection.send_line("Subject: dovecot")
        dialog.connection.send_line("")
        await dialog.say("hi", tagged("b"))
        await dialog.say("c SELECT INBOX", tagged("c"))
        fetched = await dialog.say("d FETCH 1 (FLAGS BODY[])", tagged("d"))
        assert fetched.code == "OK" and fetched.command == "FETCH"
        await dialog.say("e IDLE", lambda e: isinstance(e, Reply) and e.code == "+")
        await dialog.say("DONE", tagged("e"))
        await dialog.say("f UID FETCH 1:* FLAGS", tagged("f"))
        await dialog.say("g LOGOUT", lambda e: isinstance(e, Closed))
        return dialog

    dialog = asyncio.run(main())
    assert states(dialog.events) == [
        ("not authenticated", "authenticated", "LOGIN"), ("authenticated", "selected", "SELECT"),
        ("selected", "idle", "IDLE"), ("idle", "selected", "IDLE"), ("selected", "logout", "LOGOUT"),
    ]
    completions = [(r.tag, r.command, r.code) for r in dialog.events if isinstance(r, Reply) and r.tag]
    assert completions == [("a", "LOGIN", "OK"), ("b", "APPEND", "OK"), ("c", "SELECT", "OK"), ("d", "FETCH", "OK"),
                           ("e", "IDLE", "OK"), ("f", "UID FETCH", "OK"), ("g", "LOGOUT", "OK")]
    kinds = [(e.line_kind, e.verb) for e in dialog.events if isinstance(e, ClientLine)]
    assert ("literal", "APPEND") in kinds and ("done", "IDLE") in kinds
    assert not [n for n in dialog.events if isinstance(n, Note) and n.key != "dialog.connecting"]
    assert dialog.events[-1].reason == "client logged out"


def test_pop3_console_to_dovecot(dovecot: Dovecot) -> None:  # noqa: F811
    with imaplib.IMAP4("127.0.0.1", dovecot.imap) as imap:  # a message to read
        imap.login(USER, PASSWORD)
        imap.append("INBOX", None, None, b"Subject: for POP3\r\n\r\n.a dot\r\n")

    async def main() -> Dialog:
        dialog = Dialog(ServerAddress(Protocol.POP3, "127.0.0.1", dovecot.pop3))
        dialog.connection.open()
        await dialog.until(lambda e: isinstance(e, Reply))
        done = lambda e: isinstance(e, Reply)  # noqa: E731
        await dialog.say("CAPA", done)
        await dialog.say(f"USER {USER}", done)
        await dialog.say(f"PASS {PASSWORD}", done)
        await dialog.say("LIST", done)
        retr = await dialog.say("RETR 1", done)
        assert retr.code == "+OK" and retr.command == "RETR"
        await dialog.say("QUIT", lambda e: isinstance(e, Closed))
        return dialog

    dialog = asyncio.run(main())
    assert states(dialog.events) == [("authorization", "transaction", "PASS"), ("transaction", "update", "QUIT")]
    body = b"".join(e.data for e in dialog.events if e.kind == "server" and e.content)
    assert b"Subject: for POP3\r\n" in body and b"\r\n..a dot\r\n" in body  # dot-stuffed on the wire
    assert dialog.events[-1].reason == "client quit"


def test_imaplib_watched_on_its_way_to_dovecot(dovecot: Dovecot) -> None:  # noqa: F811
    async def main() -> list[Event]:
        bus, events = Bus(), []
        bus.subscribe(events.append)
        relay = WatchRelay(ServerAddress(Protocol.IMAP, "127.0.0.1", dovecot.imap), bus)
        host, port = await relay.start()

        def client() -> None:
            with imaplib.IMAP4(host, port) as imap:
                imap.login(USER, PASSWORD)
                imap.append("INBOX", None, None, b"Subject: watched\r\n\r\nhi\r\n")
                imap.select("INBOX")
                imap.fetch("1", "(BODY.PEEK[])")

        await asyncio.to_thread(client)
        await asyncio.wait_for(relay.quiet(), 5)
        await relay.stop()
        return events

    events = asyncio.run(main())
    assert [s[:2] for s in states(events)] == [("not authenticated", "authenticated"),
                                               ("authenticated", "selected"), ("selected", "logout")]
    assert [r.command for r in events if isinstance(r, Reply) and r.tag] == [
        "CAPABILITY", "LOGIN", "APPEND", "SELECT", "FETCH", "LOGOUT"]
    assert not [n for n in events if isinstance(n, Note)]


def test_pop3_through_the_relay_with_poplib(dovecot: Dovecot) -> None:  # noqa: F811
    async def main() -> list[Event]:
        bus, events = Bus(), []
        bus.subscribe(events.append)
        relay = WatchRelay(ServerAddress(Protocol.POP3, "127.0.0.1", dovecot.pop3), bus)
        host, port = await relay.start()

        def client() -> None:
            pop = poplib.POP3(host, port)
            pop.user(USER)
            pop.pass_(PASSWORD)
            pop.stat()
            pop.quit()

        await asyncio.to_thread(client)
        await asyncio.wait_for(relay.quiet(), 5)
        await relay.stop()
        return events

    events = asyncio.run(main())
    assert [s[:2] for s in states(events)] == [("authorization", "transaction"), ("transaction", "update")]
