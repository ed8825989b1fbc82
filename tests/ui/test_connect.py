"""`mailsim connect`: console sessions over TCP to a server started in the test, with the
state diagram and the explanations following what the server answers."""

from __future__ import annotations

import asyncio
import imaplib
import io

from rich.console import Console

from mailsim.events import Event, Note, Protocol, Reply
from mailsim.protocol.base import SessionConfig
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.smtp import SmtpSession
from mailsim.store.world import build_store
from mailsim.clock import FixedClock, SequentialIds
from mailsim.transcript.bus import Bus
from mailsim.transport.client import ServerAddress
from mailsim.transport.tap import WatchRelay
from mailsim.transport.tcp import MailServers, ServerOptions
from mailsim.ui.inspector.from_session import last_message
from mailsim.ui.widgets.mailbox_view import subject_of

from dovecot_server import PASSWORD as DOVECOT_PASSWORD, USER as DOVECOT_USER, dovecot  # noqa: F401

from .helpers import test_app as make_test_app

SIZE = (120, 40)
ENGINES = {Protocol.SMTP: SmtpSession, Protocol.POP3: Pop3Session, Protocol.IMAP: ImapSession}


async def serving(*protocols: Protocol) -> tuple[MailServers, dict[Protocol, ServerAddress]]:
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("S"))
    options = ServerOptions(ports={p: 0 for p in protocols},
                            session_config=SessionConfig(hostname=store.domain, auth_failure_delay=0))
    servers = MailServers(store, Bus(), options)
    addresses = await servers.start()
    return servers, {p: ServerAddress(p, *addresses[p]) for p in protocols}


class Ears:
    """Everything on the app's Bus, from before the app starts; `until` waits for the
    first event from now on (or already heard, with `past=True`) that a predicate accepts."""

    def __init__(self, app) -> None:
        self.events: list[Event] = []
        self._waiting: list[tuple[object, asyncio.Future[Event]]] = []
        app.bus.subscribe(self._hear)

    def _hear(self, event: Event) -> None:
        self.events.append(event)
        for predicate, future in list(self._waiting):
            if not future.done() and predicate(event):  # type: ignore[operator]
                future.set_result(event)

    async def until(self, predicate, *, past: bool = False, timeout: float = 5.0) -> Event:
        if past:
            for event in self.events:
                if predicate(event):
                    return event
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiting.append((predicate, future))
        return await asyncio.wait_for(future, timeout)


async def send(pilot, app, ears: Ears, model, line: str, *, until) -> Event:
    """Type a whole line into the session's input, press Enter, wait for the answer."""
    waiting = asyncio.ensure_future(ears.until(until))
    app.main.pane(model.session_id).command_input.value = line
    await pilot.press("enter")
    event = await waiting
    await pilot.pause()
    return event


def _plain(widget, width: int = 60) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def tagged(tag: str):
    return lambda e: isinstance(e, Reply) and e.tag == tag


async def test_imap_over_tcp_moves_the_diagram_and_explains_the_replies():
    servers, addresses = await serving(Protocol.IMAP)
    app = make_test_app(engines=ENGINES, open_on_start=(), remotes=[addresses[Protocol.IMAP]])
    ears = Ears(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            greeting = await ears.until(lambda e: isinstance(e, Reply), past=True)
            model = app.active_model()
            assert model.session_id.startswith("connect-imap-") and greeting.key == "greeting"
            assert app.tab_title(model) == f"IMAP {model.number} → {addresses[Protocol.IMAP].host}:" \
                                           f"{addresses[Protocol.IMAP].port}"
            await send(pilot, app, ears, model, "a LOGIN alice wonderland", until=tagged("a"))
            assert model.state == "authenticated"
            done = await send(pilot, app, ears, model, "b SELECT INBOX", until=tagged("b"))
            assert done.command == "SELECT" and done.key == "select-ok"
            assert model.state == "selected" and model.last_transition.command == "SELECT"
            panel = app.main.state_panel
            current = panel.get_component_rich_style("state-panel--current", partial=True)
            segments = Console(width=60, file=io.StringIO()).render(panel.content)
            assert "".join(s.text for s in segments if s.style == current) == "[ selected ]"
            explained = app.explainer.reply(Protocol.IMAP, done.key, done.code, done.reply_class).meaning
            assert explained and explained.split()[0] in _plain(app.main.reply_panel.explanation, 200)
            # What is valid now comes from the engine's table, as for in-process sessions.
            # The mailbox view shows what the dialog showed: the folders LIST named, the
            # count SELECT gave, what FETCH said about each message.
            await send(pilot, app, ears, model, 'l LIST "" *', until=tagged("l"))
            await send(pilot, app, ears, model, "f FETCH 1:2 (UID FLAGS RFC822.SIZE ENVELOPE)", until=tagged("f"))
            view = app.main.mailbox_view
            inbox = servers.store.mailbox("alice", "INBOX").messages
            rows = [[str(c) for c in view.table.get_row_at(r)] for r in range(view.table.row_count)]
            assert [row[:2] for row in rows] == [["1", str(inbox[0].uid)], ["2", str(inbox[1].uid)]]
            assert rows[0][3].replace(",", "") == str(inbox[0].size) and rows[0][4] == subject_of(inbox[0])
            folders = [str(n.label).split(" ")[0] for n in view.tree.root.children[0].children]
            assert sorted(folders) == sorted(servers.store.account("alice").mailboxes)
            assert view.border_title.startswith("INBOX on 127.0.0.1:")
            await send(pilot, app, ears, model, "c FETCH 1 BODY[]", until=tagged("c"))
            assert model.lines[-2].content  # the message octets, shown as content
            # The inspector's message is the one on the wire (Ctrl+T reads the transcript).
            first = servers.store.mailbox("alice", "INBOX").messages[0].raw
            assert last_message(Protocol.IMAP, model.lines) == first
            await send(pilot, app, ears, model, "d LOGOUT", until=lambda e: e.kind == "closed")
            assert model.closed and model.state == "logout"
    finally:
        await servers.stop()


async def test_f_keys_open_more_sessions_to_the_same_hosts_and_say_when_none_was_given():
    servers, addresses = await serving(Protocol.POP3)
    app = make_test_app(engines=ENGINES, open_on_start=(), remotes=[addresses[Protocol.POP3]])
    ears = Ears(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            first = await ears.until(lambda e: isinstance(e, Reply), past=True)
            await pilot.press("f3")
            await ears.until(lambda e: isinstance(e, Reply) and e.session_id != first.session_id, past=True)
            assert sorted(m.session_id.split("-")[1] for m in app.sessions.values()) == ["pop3", "pop3"]
            await pilot.press("f4")
            await pilot.pause()
            assert len(app.sessions) == 2  # no IMAP server was given
    finally:
        await servers.stop()


async def test_a_refused_connection_is_said_in_the_session():
    app = make_test_app(engines=ENGINES, open_on_start=(), remotes=[ServerAddress(Protocol.SMTP, "127.0.0.1", 1)])
    ears = Ears(app)
    async with app.run_test(size=SIZE) as pilot:
        closed = await ears.until(lambda e: e.kind == "closed", past=True)
        await pilot.pause()
        model = app.active_model()
        assert closed.reason == "connection refused" and model.closed
        notes = [n.key for n in model.notes if isinstance(n, Note)]
        assert notes[-1] == "dialog.refused"
        texts = [app.describe(line) for line in model.lines if line.event is not None]
        assert any("refused the connection on port 1" in text for text in texts)


async def test_connect_to_dovecot_the_diagram_and_explanations_follow(dovecot):  # noqa: F811
    address = ServerAddress(Protocol.IMAP, "127.0.0.1", dovecot.imap)
    app = make_test_app(engines=ENGINES, open_on_start=(), remotes=[address])
    ears = Ears(app)
    async with app.run_test(size=SIZE) as pilot:
        greeting = await ears.until(lambda e: isinstance(e, Reply), past=True)
        assert "Dovecot" in greeting.text and greeting.key == "greeting"
        model = app.active_model()
        await send(pilot, app, ears, model, f"a LOGIN {DOVECOT_USER} {DOVECOT_PASSWORD}", until=tagged("a"))
        done = await send(pilot, app, ears, model, "b SELECT INBOX", until=tagged("b"))
        # Dovecot's own words ("Select completed"), explained as SELECT's OK.
        assert done.key == "select-ok" and model.state == "selected"
        panel = app.main.state_panel
        current = panel.get_component_rich_style("state-panel--current", partial=True)
        segments = Console(width=60, file=io.StringIO()).render(panel.content)
        assert "".join(s.text for s in segments if s.style == current) == "[ selected ]"
        meaning = app.explainer.reply(Protocol.IMAP, done.key, done.code, done.reply_class).meaning
        assert meaning.split()[0] in _plain(app.main.reply_panel.explanation, 200)
        await send(pilot, app, ears, model, "c IDLE", until=lambda e: isinstance(e, Reply) and e.code == "+")
        assert model.state == "idle"
        await send(pilot, app, ears, model, "DONE", until=tagged("c"))
        assert model.state == "selected"


async def test_a_watched_conversation_is_a_read_only_session_with_the_teaching_views():
    servers, addresses = await serving(Protocol.IMAP)
    relay = WatchRelay(addresses[Protocol.IMAP])
    app = make_test_app(engines=ENGINES, open_on_start=(), relays=[relay])
    ears = Ears(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert relay.port  # listening since the main screen came up

            def client() -> None:
                with imaplib.IMAP4(relay.host, relay.port) as imap:
                    imap.login("bob", "builder")
                    imap.select("INBOX")

            await asyncio.to_thread(client)
            await asyncio.wait_for(relay.quiet(), 5)
            await pilot.pause()
            (model,) = app.sessions.values()
            assert model.read_only and model.session_id.startswith("watch-imap-")
            assert app.tab_title(model).startswith("IMAP ⇄ 127.0.0.1:")
            assert [t.new for t in ears.events if t.kind == "state"] == ["authenticated", "selected", "logout"]
            assert model.state == "logout" and model.closed
            assert [r.command for r in model.replies if r.tag] == ["CAPABILITY", "LOGIN", "SELECT", "LOGOUT"]
            # A real client's password is not shown to the room, nor kept in a recording.
            assert b"builder" not in b"".join(line.data for line in model.lines)
            assert any(b'LOGIN bob "********"' in line.data for line in model.lines)
            seen = app.seen_of(model)
            assert seen is not None and seen.user == "bob" and seen.mailboxes["INBOX"].count == 4
    finally:
        await servers.stop()


async def test_starttls_in_a_connect_session_marks_the_upgrade_and_keeps_explaining(tmp_path, monkeypatch):
    """Against a `mailsim serve`-style server with its certificate in the user data
    directory: the connect session trusts it out of the box, STARTTLS upgrades the
    socket, the transcript marks it as for an in-process session, and EHLO after it is
    explained with the state machine back at the start (RFC 3207 §4.2)."""
    from mailsim.events import TlsStarted
    from mailsim.transport.tls import default_directory, ensure_certificate, server_names

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    material = ensure_certificate(server_names(["mailsim.test"]), default_directory())
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("S"))
    options = ServerOptions(ports={Protocol.SMTP: 0}, tls=material, tls_handshake_timeout=5.0,
                            session_config=SessionConfig(hostname=store.domain, auth_failure_delay=0))
    servers = MailServers(store, Bus(), options)
    host, port = (await servers.start())[Protocol.SMTP]
    app = make_test_app(engines=ENGINES, open_on_start=(), remotes=[ServerAddress(Protocol.SMTP, "localhost", port)])
    ears = Ears(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await ears.until(lambda e: isinstance(e, Reply), past=True)
            model = app.active_model()
            await send(pilot, app, ears, model, "EHLO aula.example", until=lambda e: isinstance(e, Reply))
            started = await send(pilot, app, ears, model, "STARTTLS", until=lambda e: isinstance(e, TlsStarted))
            assert started.fingerprint == material.fingerprint and not started.implicit
            assert model.state == "connected" and model.secure
            mark = next(line for line in model.lines if line.event is started)
            assert "TLS started" in app.describe(mark) and material.fingerprint in app.describe(mark)
            assert "still reads and explains" in app.describe(mark)
            ehlo = await send(pilot, app, ears, model, "EHLO aula.example", until=lambda e: isinstance(e, Reply))
            assert ehlo.key == "ehlo" and "STARTTLS" not in ehlo.text and model.state == "greeted"
            after = model.lines[model.lines.index(mark) + 1 :]
            assert after and all(line.encrypted for line in after if line.event is not None and line.direction.value != "info")
    finally:
        await servers.stop()
