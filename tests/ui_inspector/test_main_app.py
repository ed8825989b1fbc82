"""The inspector and the composer inside the main app: from the mailbox view,
from a session transcript, and a composed message sent through SMTP."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Protocol
from mailsim.store.world import build_store
from mailsim.ui.app import make_app
from mailsim.ui.composer import ComposerScreen
from mailsim.ui.inspector import InspectorScreen


def main_app(*open_on_start: Protocol):
    clock, ids = FixedClock(1_790_000_000.0), SequentialIds("Q")
    store = build_store(clock=clock, ids=ids)
    return make_app(store, clock=clock, ids=ids, cursor_blink=False, lang="en", open_on_start=open_on_start)


async def test_enter_on_a_mailbox_row_opens_the_inspector() -> None:
    app = main_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#message-table", DataTable)
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen)
        expected = app.store.mailbox("alice", "INBOX").messages[2].raw
        assert app.screen.model.raw == expected
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, InspectorScreen)


async def test_ctrl_t_inspects_the_message_a_pop3_session_retrieved() -> None:
    app = main_app(Protocol.POP3)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        session_id = next(iter(app.sessions))
        for line in ("USER alice", "PASS wonderland", "RETR 3"):
            app.send(session_id, line)
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen)
        assert app.screen.model.raw == app.store.mailbox("alice", "INBOX").messages[2].raw


async def test_ctrl_t_without_a_message_only_tells_why() -> None:
    app = main_app(Protocol.SMTP)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not isinstance(app.screen, InspectorScreen)


async def test_a_composed_message_goes_out_through_an_smtp_session() -> None:
    app = main_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = len(app.store.mailbox("bob", "INBOX").messages)
        await pilot.press("ctrl+n")
        await pilot.pause()
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        composer.query_one("#composer-to", Input).value = "Bob <bob@mailsim.test>"
        composer.query_one("#composer-subject", Input).value = "Año nuevo"
        composer.forward(0)
        raw = composer.draft.as_bytes()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ComposerScreen)
        inbox = app.store.mailbox("bob", "INBOX").messages
        assert len(inbox) == before + 1
        assert inbox[-1].raw.endswith(raw)  # after the Received/Return-Path lines the server adds
        (smtp,) = [m for m in app.sessions.values() if m.protocol is Protocol.SMTP]
        typed = [line.data for line in smtp.lines if line.direction.value == "C"]
        assert typed[:4] == [b"EHLO client.mailsim.test\r\n", b"MAIL FROM:<alice@mailsim.test>\r\n",
                             b"RCPT TO:<bob@mailsim.test>\r\n", b"DATA\r\n"]
