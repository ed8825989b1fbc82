"""Relaying in the app: a relay session as a read-only tab, the queue and DNS screen
(F12) with its fast-forward, and the path of a message from the mailbox view, the
queue screen and the MIME inspector. Two snapshots: the queue and the path."""

from __future__ import annotations

import asyncio
import io
import smtplib

import pytest
from rich.console import Console

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Protocol
from mailsim.store.dns import Greylisting
from mailsim.store.queue import QueueStatus
from mailsim.store.world import build_store
from mailsim.transport.tcp import ServerOptions
from mailsim.ui.screens.path import PathScreen
from mailsim.ui.screens.queue import QueueScreen

from .helpers import test_app

WIDE = (120, 40)
TO_CARMEN = [
    "EHLO pc-alice.example",
    "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=",  # \0alice\0wonderland
    "MAIL FROM:<alice@mailsim.test>",
    "RCPT TO:<carmen@ejemplo.test>",
    "RCPT TO:<nadie@ejemplo.test>",
    "DATA",
    "Subject: De un dominio a otro",
    "",
    "Hola, Carmen.",
    ".",
]


def greylisting_app(lang: str = "en"):
    # The MX's queue ids (R...) differ from the console session's (Q...), as two servers' would.
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("R"))
    store.domains["ejemplo.test"].greylisting = Greylisting(delay=90)
    return test_app(store=store, lang=lang)


def shown(screen: PathScreen) -> str:
    console = Console(file=io.StringIO(), width=200)
    console.print(screen.body)
    return console.file.getvalue()


async def send_to_carmen(app, pilot) -> None:
    await pilot.pause()
    session_id = next(iter(app.sessions))
    for line in TO_CARMEN:  # whole lines: this test is about what follows, not typing
        app.send(session_id, line)
    await pilot.pause()
    await pilot.pause()


async def test_relay_session_tab_queue_fast_forward_and_path() -> None:
    app = greylisting_app()
    async with app.run_test(size=WIDE) as pilot:
        await send_to_carmen(app, pilot)
        relays = [m for m in app.sessions.values() if m.hop is not None]
        assert [m.hop.recipient for m in relays] == ["carmen@ejemplo.test", "nadie@ejemplo.test"]
        first = relays[0]
        assert first.read_only and first.session_id.startswith("relay-smtp-")
        assert app.tab_title(first) == f"Relay {first.number} → mx.ejemplo.test"
        sent = [line.data for line in first.lines if line.direction.name == "CLIENT"]
        assert sent[:3] == [b"EHLO mailsim.test\r\n", b"MAIL FROM:<alice@mailsim.test>\r\n",
                            b"RCPT TO:<carmen@ejemplo.test>\r\n"]
        assert [r.code for r in first.replies][-2:] == ["450", "221"]  # greylisted, then QUIT
        bounce = app.store.mailbox("alice", "INBOX").messages[-1].raw
        assert b"multipart/report" in bounce and b"Status: 5.1.1" in bounce

        await pilot.press("f12")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert screen.table.row_count == 2
        entry = app.store.queue.entries[0]
        assert entry.status is QueueStatus.DEFERRED
        await pilot.press("f")  # 60 s later: still greylisted
        await pilot.press("f")  # 120 s more: delivered
        await pilot.pause()
        assert [a.code for a in entry.attempts] == ["450", "450", "250"]
        assert entry.status is QueueStatus.DELIVERED
        assert len([m for m in app.sessions.values() if m.hop is not None]) == 4  # one tab per attempt

        await pilot.press("p")
        await pilot.pause()
        path = app.screen
        assert isinstance(path, PathScreen)
        body = shown(path)
        assert "mx.ejemplo.test" in body and "after hop 1, the queue of mailsim.test" in body
        assert "450 4.2.0" in body and "250 2.0.0" in body and "<alice@mailsim.test>" in body
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, (PathScreen, QueueScreen))


async def test_path_from_the_mailbox_view_and_from_the_inspector() -> None:
    app = test_app()
    async with app.run_test(size=WIDE) as pilot:
        await send_to_carmen(app, pilot)
        view = app.main.mailbox_view
        assert view.selected == ("alice", "INBOX")  # the view followed the last delivery: the bounce
        view.selected = ("carmen", "INBOX")
        view.rebuild()
        view.table.focus()
        view.table.move_cursor(row=view.table.row_count - 1)
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PathScreen)
        body = shown(app.screen)
        assert "pc-alice.example" in body and "mx.ejemplo.test" in body
        await pilot.press("escape")
        await pilot.press("enter")  # the MIME inspector on the same message
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PathScreen)
        assert "mx.ejemplo.test" in shown(app.screen)


def test_queue_screen_snapshot(snap_compare):
    async def run_before(pilot):
        await send_to_carmen(pilot.app, pilot)
        await pilot.press("f12", "f")
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(greylisting_app(), terminal_size=WIDE, run_before=run_before)


def test_path_screen_snapshot_in_spanish(snap_compare):
    async def run_before(pilot):
        await send_to_carmen(pilot.app, pilot)
        await pilot.press("f12", "f", "f")
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(greylisting_app("es"), terminal_size=WIDE, run_before=run_before)


@pytest.mark.network
async def test_listening_app_serves_submission_and_the_other_domains_mx() -> None:
    app = test_app(listen=True, server_options=ServerOptions(ports={Protocol.SMTP: 0}, idle_timeout=30))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        ports = {item.label: item.port for item in app.other_listeners}
        assert set(ports) == {"submission", "ejemplo.test (MX)"}

        def submit() -> None:
            with smtplib.SMTP("127.0.0.1", ports["submission"], timeout=10) as client:
                client.login("alice", "wonderland")
                client.sendmail("alice@mailsim.test", ["carmen@ejemplo.test"], b"Subject: por TCP\r\n\r\nhola\r\n")

        await asyncio.to_thread(submit)
        for _ in range(50):  # the queue relays on the app's loop
            await pilot.pause(0.02)
            if any(m.hop is not None for m in app.sessions.values()):
                break
        assert any(m.hop is not None and m.hop.server_host == "mx.ejemplo.test" for m in app.sessions.values())
        raw = app.store.mailbox("carmen", "INBOX").messages[-1].raw
        assert b"Subject: por TCP" in raw and raw.count(b"Received: ") == 2
