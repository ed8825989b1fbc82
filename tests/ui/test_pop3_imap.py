"""POP3 and IMAP sessions typed in the app: the mailbox view, the transcript, the
inspector and the literal editor, checked against the store."""

from __future__ import annotations

import asyncio
import smtplib

import pytest
from textual.widgets import DataTable

from mailsim.events import Protocol
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.smtp import SmtpSession
from mailsim.transport.tcp import ServerOptions
from mailsim.ui.widgets.mailbox_view import DELE_LABEL

from uihelpers import put_line

from .helpers import test_app as make_test_app, type_line, type_lines

SIZE = (120, 40)
ALL_ENGINES = {Protocol.SMTP: SmtpSession, Protocol.POP3: Pop3Session, Protocol.IMAP: ImapSession}


def app_with(*protocols: str, **options):
    return make_test_app(engines=ALL_ENGINES, open_on_start=protocols, **options)


def _row(table: DataTable, uid: int) -> list[str]:
    for row in range(table.row_count):
        cells = [str(cell) for cell in table.get_row_at(row)]
        if cells[0] == str(uid):
            return cells
    return []


def _row_styles(table: DataTable, uid: int) -> list:
    for row in range(table.row_count):
        cells = table.get_row_at(row)
        if str(cells[0]) == str(uid):
            return [getattr(cell, "style", None) for cell in cells]
    return []


# -- POP3 ------------------------------------------------------------------------------------


async def test_pop3_dele_strikes_through_until_rset_restores_it():
    app = app_with("pop3")
    async with app.run_test(size=SIZE) as pilot:
        await type_lines(pilot, ["USER alice", "PASS wonderland", "STAT", "LIST", "RETR 1"])
        model = app.active_model()
        assert model.state == "transaction"
        assert [r.code for r in model.replies][-3:] == ["+OK", "+OK", "+OK"]
        first_uid = app.store.mailbox("alice", "INBOX").messages[0].uid
        view = app.main.mailbox_view
        table = view.table

        await type_line(pilot, "DELE 1")
        assert view.selected == ("alice", "INBOX")
        assert view.pending_delete("alice", "INBOX", first_uid)
        cells = _row(table, first_uid)
        assert cells[1].startswith(DELE_LABEL)
        uid_style = _row_styles(table, first_uid)[0]
        assert uid_style is not None and uid_style.strike
        # Nothing has left the store: DELE only marks.
        assert app.store.mailbox("alice", "INBOX").messages[0].uid == first_uid

        await type_line(pilot, "RSET")
        assert not view.pending_delete("alice", "INBOX", first_uid)
        assert view.mark_of("alice", "INBOX", first_uid) == "restored"
        assert not _row(table, first_uid)[1].startswith(DELE_LABEL)
        assert not _row_styles(table, first_uid)[0].strike


async def test_pop3_dele_then_quit_removes_the_message_from_store_and_view():
    app = app_with("pop3")
    async with app.run_test(size=SIZE) as pilot:
        before = [m.uid for m in app.store.mailbox("alice", "INBOX").messages]
        await type_lines(pilot, ["USER alice", "PASS wonderland", "DELE 2"])
        view = app.main.mailbox_view
        assert view.pending_delete("alice", "INBOX", before[1])
        await type_line(pilot, "QUIT")
        after = [m.uid for m in app.store.mailbox("alice", "INBOX").messages]
        assert after == before[:1] + before[2:]
        assert not view.pending_delete("alice", "INBOX", before[1])
        assert _row(view.table, before[1]) == []
        assert app.active_model().state == "update" or app.active_model().closed


async def test_pop3_dropped_connection_restores_the_marks():
    app = app_with("pop3")
    async with app.run_test(size=SIZE) as pilot:
        uid = app.store.mailbox("alice", "INBOX").messages[0].uid
        await type_lines(pilot, ["USER alice", "PASS wonderland", "DELE 1"])
        view = app.main.mailbox_view
        assert view.pending_delete("alice", "INBOX", uid)
        await pilot.press("f5")  # close the tab: the client went away without QUIT
        await pilot.pause()
        assert not view.pending_delete("alice", "INBOX", uid)
        assert view.mark_of("alice", "INBOX", uid) == "restored"
        assert app.store.mailbox("alice", "INBOX").messages[0].uid == uid


# -- IMAP ------------------------------------------------------------------------------------

LOGIN_SELECT = ["a LOGIN alice wonderland", "b SELECT INBOX"]


async def test_imap_tagged_completions_name_their_command():
    app = app_with("imap")
    async with app.run_test(size=SIZE) as pilot:
        await type_lines(pilot, [*LOGIN_SELECT, "c UID FETCH 1 FLAGS", "d NOOP"])
        model = app.active_model()
        completions = {line.data.split(b" ", 1)[0]: line.completes for line in model.lines if line.completes}
        assert completions == {b"a": "LOGIN", b"b": "SELECT", b"c": "UID FETCH", b"d": "NOOP"}
        # The wire stays as it was: the annotation is not in the line's bytes.
        assert all(b"\xe2\x86\x90" not in line.data for line in model.lines)
        tagged = [r for r in model.replies if r.tag]
        assert [(r.tag, r.command) for r in tagged] == [("a", "LOGIN"), ("b", "SELECT"), ("c", "UID FETCH"),
                                                       ("d", "NOOP")]
        # The reply table says which command each tagged reply completes.
        table = app.main.reply_panel.table
        commands = [str(table.get_row_at(row)[1]) for row in range(table.row_count)]
        assert "c UID FETCH" in commands and "d NOOP" in commands


async def test_imap_continuation_is_attributed_to_the_command_waiting_for_it():
    app = app_with("imap")
    async with app.run_test(size=SIZE) as pilot:
        await type_lines(pilot, [*LOGIN_SELECT, "c FETCH 1 FLAGS", "d APPEND INBOX {5}"])
        model = app.active_model()
        assert model.replies[-1].code == "+"
        assert model.replies[-1].command == "APPEND"
        await type_line(pilot, "hey")  # 3 octets + CRLF = 5: the literal, shown as content
        literal = [line for line in model.lines if line.data == b"hey\r\n"]
        assert literal and literal[0].content


async def _inspect_after(pilot, app, fetch: str):
    from mailsim.ui.inspector.screen import InspectorScreen

    await type_lines(pilot, [*LOGIN_SELECT, fetch])
    await pilot.press("ctrl+t")
    await pilot.pause()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, InspectorScreen)
    return screen


async def test_ctrl_t_after_fetch_bodystructure_opens_that_stored_message():
    app = app_with("imap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _inspect_after(pilot, app, "c FETCH 4 BODYSTRUCTURE")
        fourth = app.store.mailbox("alice", "INBOX").messages[3]
        assert screen.model.raw == fourth.raw
        assert screen.selected is screen.model.root
        assert f"UID {fourth.uid}" in screen.message_title


async def test_ctrl_t_after_fetch_of_a_part_selects_that_part():
    app = app_with("imap")
    async with app.run_test(size=SIZE) as pilot:
        fifth = app.store.mailbox("alice", "INBOX").messages[4]
        screen = await _inspect_after(pilot, app, f"c UID FETCH {fifth.uid} BODY.PEEK[2.1]")
        assert screen.model.raw == fifth.raw
        assert screen.selected.part_number == "2.1"
        assert screen.selected is screen.model.find("2.1")
        await pilot.press("escape")
        await pilot.pause()
        # By sequence number, another part.
        await type_line(pilot, "d FETCH 3 BODY[2]")
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.pause()
        third = app.store.mailbox("alice", "INBOX").messages[2]
        assert app.screen.model.raw == third.raw
        assert app.screen.selected.part_number == "2"


APPENDED = "From: alice@mailsim.test\nTo: bob@mailsim.test\nSubject: Señal\n\n.leading dot stays\nÑandú — two lines"


async def test_append_through_the_editor_stores_the_literal_byte_exact():
    from mailsim.ui.screens.compose import ComposeScreen

    app = app_with("imap")
    async with app.run_test(size=SIZE) as pilot:
        await type_lines(pilot, [*LOGIN_SELECT])
        sent = []
        app.bus.subscribe(lambda e: sent.append(e.data) if type(e).__name__ == "ClientLine" else None)
        before = len(app.store.mailbox("alice", "INBOX").messages)
        await put_line(pilot, "c APPEND INBOX (\\Seen) {}")  # the editor fills in the count
        await pilot.press("ctrl+o")
        await pilot.pause()
        editor_screen = app.screen
        assert isinstance(editor_screen, ComposeScreen)
        editor_screen.editor.load_text(APPENDED)
        await pilot.pause()
        expected = (APPENDED + "\n").replace("\n", "\r\n").encode()
        preview = str(editor_screen.query_one("#compose-preview").render())
        assert f"c APPEND INBOX (\\Seen) {{{len(expected)}}}" in preview
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()

        messages = app.store.mailbox("alice", "INBOX").messages
        assert len(messages) == before + 1
        assert messages[-1].raw == expected
        assert "\\Seen" in messages[-1].flags
        # As telnet: the command with its count, the "+" from the server, then the lines.
        assert sent[0] == f"c APPEND INBOX (\\Seen) {{{len(expected)}}}\r\n".encode()
        assert b"".join(sent[1:]) == expected + b"\r\n"
        model = app.active_model()
        plus = next(i for i, line in enumerate(model.lines) if line.data.startswith(b"+ "))
        first_literal = next(i for i, line in enumerate(model.lines) if line.data.startswith(b"From: alice"))
        assert plus < first_literal and model.lines[first_literal].content
        assert model.replies[-1].tag == "c" and model.replies[-1].code == "OK"
        assert app.main.pane(model.session_id).command_input.value == ""


async def test_a_refused_literal_is_not_sent():
    from mailsim.ui.screens.compose import ComposeScreen

    app = app_with("imap")
    async with app.run_test(size=SIZE) as pilot:
        sent = []
        app.bus.subscribe(lambda e: sent.append(e.data) if type(e).__name__ == "ClientLine" else None)
        # Not logged in: APPEND is refused before its literal is asked for.
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        app.screen.editor.load_text("Subject: x\n\nbody")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert len(sent) == 1 and sent[0].startswith(b"a APPEND INBOX {")
        assert app.active_model().replies[-1].code == "BAD"


def _exists_lines(model) -> list[bytes]:
    return [line.data for line in model.lines if line.data.startswith(b"* ") and b" EXISTS" in line.data]


@pytest.mark.network
async def test_idle_session_side_by_side_sees_an_smtp_delivery_without_typing():
    options = ServerOptions(ports={Protocol.SMTP: 0}, idle_timeout=30)
    app = app_with("imap", listen=True, server_options=options)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        idling = app.active_model()
        await type_lines(pilot, [*LOGIN_SELECT, "c IDLE"])
        assert idling.state == "idle"
        await pilot.press("f6")  # side by side: a second IMAP session opens on the right
        await pilot.pause()
        other = app.active_model()
        assert other is not idling and other.protocol is Protocol.IMAP and app.main.split
        await type_lines(pilot, LOGIN_SELECT)
        count = len(app.store.mailbox("alice", "INBOX").messages)
        seen_before = len(_exists_lines(idling)), len(_exists_lines(other))

        host, port = app.listening[Protocol.SMTP]

        def send() -> None:
            with smtplib.SMTP(host, port, timeout=10) as client:
                client.sendmail("bob@mailsim.test", ["alice@mailsim.test"], b"Subject: while idling\r\n\r\nhi\r\n")

        await asyncio.to_thread(send)
        for _ in range(20):
            await pilot.pause(0.05)
            if len(_exists_lines(idling)) > seen_before[0]:
                break
        # Pushed to the IDLE session, nobody typed there...
        assert _exists_lines(idling)[-1] == f"* {count + 1} EXISTS\r\n".encode()
        # ...while the other one hears of it at its next command.
        assert len(_exists_lines(other)) == seen_before[1]
        await type_line(pilot, "d NOOP")
        assert _exists_lines(other)[-1] == f"* {count + 1} EXISTS\r\n".encode()
        await type_line(pilot, "e FETCH * BODYSTRUCTURE")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.screen.model.raw.endswith(b"hi\r\n")
