"""POP3 and IMAP sessions typed in the app: the mailbox view, the transcript, the
inspector and the literal editor, checked against the store."""

from __future__ import annotations

import smtplib

from textual.widgets import DataTable

from mailsim.events import Protocol
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.smtp import SmtpSession
from mailsim.ui.widgets.mailbox_view import DELE_LABEL

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
