"""The app driven like a student drives it: keys in, the store and the widgets checked."""

from __future__ import annotations

import asyncio
import io
import smtplib

from rich.console import Console

import pytest
from textual.widgets import DataTable
from uihelpers import put_line

from mailsim.events import ClientLine, Protocol, Reply
from mailsim.store.model import SystemFlag
from mailsim.transport.tcp import ServerOptions
from mailsim.ui.screens.compose import ComposeScreen
from mailsim.ui.screens.help import HelpScreen
from mailsim.protocol.smtp import SmtpSession
from mailsim.ui.widgets.mailbox_view import HIGHLIGHT_SECONDS, MailboxView

from .helpers import WHOLE_SESSION, test_app as make_test_app, type_line, type_lines

SIZE = (120, 40)


def _client_lines(app):
    seen = []
    app.bus.subscribe(lambda e: seen.append(e.data) if isinstance(e, ClientLine) else None)
    return seen


def _plain(widget, width: int = 60) -> str:
    """What a Static shows, as plain text."""
    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def _uid_cell(view: MailboxView, uid: int):
    table = view.table
    return next(table.get_row_at(r)[0] for r in range(table.row_count) if str(table.get_row_at(r)[0]) == str(uid))


def _cells(table: DataTable, column: int) -> list[str]:
    return [str(table.get_row_at(row)[column]) for row in range(table.row_count)]


async def test_a_whole_smtp_session_lands_in_bobs_mailbox():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        sent = _client_lines(app)
        inbox_before = len(app.store.mailbox("bob", "INBOX").messages)
        await type_lines(pilot, WHOLE_SESSION)
        await type_line(pilot, "QUIT")

        # The server got exactly what telnet would have sent.
        assert sent[0] == b"EHLO client.example\r\n"
        assert sent[4] == b"From: Alice <alice@mailsim.test>\r\n"
        assert sent[-2:] == [b".\r\n", b"QUIT\r\n"]
        # The store has the message...
        messages = app.store.mailbox("bob", "INBOX").messages
        assert len(messages) == inbox_before + 1
        assert b"Hi Bob, this came through the console.\r\n" in messages[-1].raw
        # ...and the mailbox view shows it, subject decoded, highlighted as new.
        view = app.main.mailbox_view
        assert view.selected == ("bob", "INBOX")
        assert _cells(view.table, 3)[-1] == "Hola señor"
        assert view.mark_of("bob", "INBOX", messages[-1].uid) == "added"
        # The replies table lists every reply, the last one the 221 of QUIT.
        model = app.active_model()
        assert [r.code for r in model.replies] == ["220", "250", "250", "250", "354", "250", "221"]
        assert app.main.reply_panel.table.row_count == 7
        assert model.closed and app.main.pane(model.session_id).command_input.disabled


async def test_state_panel_follows_the_session():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        panel = app.main.state_panel
        assert app.active_model().state == "connected"
        await type_lines(pilot, WHOLE_SESSION[:3])
        model = app.active_model()
        assert model.state == "rcpt"
        assert model.last_transition.command == "RCPT"
        rendered = _plain(panel)
        assert "[ rcpt ]" in rendered and "▼ RCPT" in rendered
        current = panel.get_component_rich_style("state-panel--current", partial=True)
        segments = Console(width=60, file=io.StringIO()).render(panel.content)
        assert "".join(s.text for s in segments if s.style == current) == "[ rcpt ]"
        assert "<alice@mailsim.test>" in rendered and "<bob@mailsim.test>" in rendered


async def test_history_walks_back_and_forth():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_lines(pilot, ["NOOP", "HELP MAIL"])
        command = app.main.pane(app.active_model().session_id).command_input
        await pilot.press(*"dra")
        await pilot.press("up")
        assert command.value == "HELP MAIL"
        await pilot.press("up")
        assert command.value == "NOOP"
        await pilot.press("up")
        assert command.value == "NOOP"
        await pilot.press("down")
        assert command.value == "HELP MAIL"
        await pilot.press("down")
        assert command.value == "dra"  # the unfinished line comes back


async def test_suggestions_only_offer_what_is_valid_now():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane(app.active_model().session_id)
        command = pane.command_input
        hint = _plain(pane.hint)
        assert "EHLO" in hint and "MAIL" not in hint  # not before EHLO
        await pilot.press("M", "A")
        await pilot.pause()
        assert command._suggestion == ""
        await pilot.press("backspace", "backspace")
        await type_line(pilot, "EHLO client.example")
        await pilot.press("m", "a")
        await pilot.pause()
        assert command._suggestion == "maIL FROM:<"
        assert "MAIL FROM:<reverse-path>" in _plain(pane.hint)
        assert "RFC 5321" in _plain(pane.hint)
        await pilot.press("right")
        assert command.value == "maIL FROM:<"
        # A whole verb that is not valid now still shows its syntax.
        await put_line(pilot, "data")
        await pilot.pause()
        assert SmtpSession.COMMANDS["DATA"].syntax in _plain(pane.hint)


async def test_message_body_is_entered_line_by_line():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_lines(pilot, WHOLE_SESSION[:4])
        model = app.active_model()
        pane = app.main.pane(model.session_id)
        assert model.multiline and pane.command_input.has_class("-body")
        assert "." in _plain(pane.hint)
        await type_lines(pilot, ["Subject: two lines", "", "first", "second"])
        assert model.state == "data"
        await type_line(pilot, ".")
        assert model.state == "greeted" and not pane.command_input.has_class("-body")
        assert model.replies[-1].code == "250"
        raw = app.store.mailbox("bob", "INBOX").messages[-1].raw
        assert raw.endswith(b"Subject: two lines\r\n\r\nfirst\r\nsecond\r\n")
        # Body lines are not remembered as commands.
        assert "first" not in model.history


async def test_the_editor_sends_a_whole_message_dot_stuffed():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        sent = _client_lines(app)
        await type_lines(pilot, WHOLE_SESSION[:4])
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        editor = app.screen.editor
        assert "To: bob@mailsim.test" in editor.text
        editor.text = "Subject: dots\n\n.hidden line\nend\n"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert b"..hidden line\r\n" in sent and sent[-1] == b".\r\n"
        raw = app.store.mailbox("bob", "INBOX").messages[-1].raw
        assert raw.endswith(b"Subject: dots\r\n\r\n.hidden line\r\nend\r\n")
        assert app.active_model().state == "greeted"


async def test_language_switch_relabels_everything():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "RCPT TO:<bob@mailsim.test>")
        pane = app.main.pane(app.active_model().session_id)
        assert "Valid now" in _plain(pane.hint)
        await pilot.press("f9")
        await pilot.pause()
        assert app.lang == "es"
        assert "Válidas ahora" in _plain(pane.hint)
        assert app.main.state_panel.border_title.startswith("Máquina de estados")
        assert "fallo permanente" in _plain(app.main.reply_panel.explanation)
        assert [c.label.plain for c in app.main.mailbox_view.table.ordered_columns][3] == "Asunto"
        descriptions = {b.action: b.description for _k, b in app._bindings}
        assert descriptions["help"] == "Ayuda"
        await pilot.press("f9")
        await pilot.pause()
        assert app.lang == "en" and "Valid now" in _plain(pane.hint)


async def test_two_sessions_side_by_side_are_independent():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        first = app.active_model()
        await pilot.press("f2")
        await pilot.pause()
        second = app.active_model()
        assert second is not first and len(app.sessions) == 2
        await type_line(pilot, "EHLO second.example")
        assert second.state == "greeted" and first.state == "connected"
        await pilot.press("f6")
        await pilot.pause()
        main = app.main
        assert main.split and main.right_tabs.tab_count == 1 and main.left_tabs.tab_count == 1
        assert main.pane(first.session_id) is not None and main.pane(second.session_id) is not None
        await pilot.press("f6")
        await pilot.pause()
        assert not main.split and main.left_tabs.tab_count == 2


async def test_closing_a_session_hangs_up_and_reopening_starts_fresh():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        model = app.active_model()
        await type_lines(pilot, WHOLE_SESSION[:2])
        await pilot.press("f5")
        await pilot.pause()
        assert model.closed and model.close_reason == "client closed the connection"
        assert model.session_id not in app.sessions and app.main.left_tabs.tab_count == 0
        assert app.main.has_class("-empty")
        await pilot.press("f2")
        await pilot.pause()
        fresh = app.active_model()
        assert fresh.state == "connected" and fresh.replies[0].code == "220"


async def test_a_server_not_built_yet_says_so():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        model = app.active_model()
        assert model.protocol is Protocol.POP3 and not model.available
        banner = app.main.pane(model.session_id).query_one("#not-built")
        assert "POP3" in _plain(banner, 200) and "not built yet" in _plain(banner, 200)


async def test_byte_view_and_help_and_theme():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.main.pane(app.active_model().session_id)
        await type_line(pilot, "NOOP")
        await pilot.press("f8")
        await pilot.pause()
        transcript = pane.transcript
        assert transcript.show_bytes
        lines = [transcript.render_line(y).text for y in range(transcript.size.height)]
        assert any(line.startswith("C:     6 NOOP␍␊") for line in lines), lines
        await pilot.press("f10")
        assert app.theme == "textual-light"
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_flag_changes_and_deletions_are_highlighted():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        view = app.main.mailbox_view
        first = app.store.mailbox("alice", "INBOX").messages[0]
        app.store.set_flags("alice", "INBOX", first.uid, {SystemFlag.FLAGGED.value})
        await pilot.pause()
        assert view.mark_of("alice", "INBOX", first.uid) == "flags"
        app.store.set_flags("alice", "INBOX", first.uid, {SystemFlag.DELETED.value})
        await pilot.pause()
        assert view.mark_of("alice", "INBOX", first.uid) == "deleted"
        # A few seconds on (by the view's clock), a mark has faded: the next redraw shows
        # that row plain again.
        third = app.store.mailbox("alice", "INBOX").messages[2]
        app.store.set_flags("alice", "INBOX", third.uid, {SystemFlag.FLAGGED.value})
        await pilot.pause()
        flagged = view.get_component_rich_style("mailbox-view--flags", partial=True)
        assert _uid_cell(view, third.uid).style == flagged
        app.highlight_clock.advance(HIGHLIGHT_SECONDS)
        assert view.mark_of("alice", "INBOX", third.uid) == ""
        app.store.set_flags("alice", "INBOX", first.uid, {SystemFlag.SEEN.value})  # a redraw
        await pilot.pause()
        assert _uid_cell(view, third.uid).style == ""


async def test_enter_on_a_message_asks_to_open_it():
    app = make_test_app()
    chosen = []
    async with app.run_test(size=SIZE, message_hook=lambda m: chosen.append(m)
                            if isinstance(m, MailboxView.MessageChosen) else None) as pilot:
        await pilot.pause()
        table = app.main.mailbox_view.table
        table.focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert chosen and (chosen[0].account, chosen[0].mailbox) == ("alice", "INBOX")


@pytest.mark.network
async def test_a_real_client_appears_as_a_read_only_tab():
    options = ServerOptions(ports={Protocol.SMTP: 0}, idle_timeout=30)
    app = make_test_app(listen=True, server_options=options)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        host, port = app.listening[Protocol.SMTP]

        def send() -> None:
            with smtplib.SMTP(host, port, timeout=10) as client:
                client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], b"Subject: from TCP\r\n\r\nhello\r\n")

        await asyncio.to_thread(send)
        await pilot.pause(0.2)
        remote = [m for m in app.sessions.values() if m.read_only]
        assert len(remote) == 1
        model = remote[0]
        assert model.peer.startswith("127.0.0.1:")
        assert "250" in [r.code for r in model.replies if isinstance(r, Reply)]
        pane = app.main.pane(model.session_id)
        assert pane is not None and pane.command_input is None
        assert app.store.mailbox("bob", "INBOX").messages[-1].raw.endswith(b"hello\r\n")
