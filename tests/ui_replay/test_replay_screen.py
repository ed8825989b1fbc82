"""The replay screen driven with Pilot: loading, stepping forward and back, jumping,
searching, playing, and differences shown side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
from uihelpers import enter_line

from mailsim.resources import assets_dir
from mailsim.transcript.replay import Replay
from mailsim.ui.replay import ReplayScreen, make_replay_app
from mailsim.ui.replay.texts import Texts

POP3 = assets_dir() / "transcripts" / "pop3-three-states.txt"
SMTP = assets_dir() / "transcripts" / "smtp-several-recipients.txt"


async def loaded(pilot) -> ReplayScreen:
    for _ in range(200):
        await pilot.pause()
        screen = pilot.app.screen
        if isinstance(screen, ReplayScreen) and screen.replay is not None and screen.query_one("#body").display:
            return screen
    raise AssertionError("the recording did not load")


def state_text(screen: ReplayScreen) -> str:
    return str(screen.query_one("#state").render())


def listing_rows(screen: ReplayScreen) -> list[list[str]]:
    table = screen.query_one("#listing")
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def test_stepping_forward_and_back_shows_state_and_mailbox() -> None:
    app = make_replay_app(POP3, lang="en")
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await loaded(pilot)
        assert screen.position == 0
        await pilot.press("right")
        assert screen.position == 1
        assert "pop3-1 POP3 authorization" in state_text(screen)
        password = next(s.number for s in screen.replay.steps if s.client == b"PASS wonderland\r\n")
        for _ in range(password - 1):
            await pilot.press("right")
        assert screen.position == password
        assert "transaction" in state_text(screen)
        await pilot.press("left")
        assert screen.position == password - 1 and "authorization" in state_text(screen)
        dele = next(s.number for s in screen.replay.steps if s.client == b"DELE 1\r\n")
        await pilot.press("g", *str(dele), "enter")
        assert screen.position == dele
        first = listing_rows(screen)[0]
        assert first[0] == "1" and "(marked for deletion)" in first[3]
        await pilot.press("left")
        assert "(marked for deletion)" not in listing_rows(screen)[0][3]
        await pilot.press("end")
        assert screen.position == len(screen.replay.steps)
        assert "7" not in [row[0] for row in listing_rows(screen)]  # DELE 7 committed by QUIT
        await pilot.press("home")
        assert screen.position == 0


async def test_search_finds_the_next_matching_step() -> None:
    app = make_replay_app(POP3, lang="en")
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("slash", *"uidl", "enter")
        assert screen.replay.steps[screen.position - 1].client == b"CAPA\r\n"  # UIDL is a capability
        await pilot.press("enter")
        assert screen.replay.steps[screen.position - 1].client == b"UIDL 1\r\n"
        await enter_line(pilot, "zzz-nothing")
        assert "Not found" in str(screen.query_one("#status").render())


async def test_play_advances_and_pauses() -> None:
    app = make_replay_app(SMTP, lang="es")
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("plus")  # 10 steps a second
        await pilot.press("space")
        assert screen.playing
        await pilot.pause(0.35)
        await pilot.press("space")
        reached = screen.position
        assert reached > 1 and not screen.playing
        await pilot.pause(0.2)
        assert screen.position == reached
        assert "en pausa" in str(screen.query_one("#status").render())


async def test_differences_are_shown_side_by_side(tmp_path: Path) -> None:
    changed = tmp_path / "changed.txt"
    changed.write_text(SMTP.read_text().replace("no such user here", "who?"), encoding="utf-8")
    app = make_replay_app(changed, lang="en")
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("d")
        step = screen.replay.steps[screen.position - 1]
        assert step.differs and step.client == b"RCPT TO:<carol@mailsim.test>\r\n"
        shown = screen.query_one("#step").content
        from rich.console import Console

        console = Console(width=90, record=True)
        console.print(shown)
        text = console.export_text()
        assert "recorded" in text and "today" in text and "who?" in text and "no such user here" in text
        assert "1 steps answer differently" in str(screen.query_one("#status").render())


async def test_an_unreadable_recording_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text("C: hello there\n", encoding="utf-8")
    app = make_replay_app(broken, lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause()
            if "Cannot replay" in str(pilot.app.screen.query_one("#loading-text").render()):
                break
        text = str(pilot.app.screen.query_one("#loading-text").render())
        assert f"{broken}:1: cannot tell the protocol" in text


def test_both_languages_have_every_text() -> None:
    assert Texts.keys("en") == Texts.keys("es")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_snapshot_of_the_replay_screen(snap_compare, lang: str) -> None:
    replay = Replay.load(POP3)
    app = make_replay_app(POP3.name, lang=lang, replay=replay)

    async def run_before(pilot) -> None:
        await loaded(pilot)
        dele = next(s.number for s in replay.steps if s.client == b"DELE 1\r\n")
        pilot.app.screen.go(dele)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(130, 40), run_before=run_before)


async def test_the_main_app_opens_a_replay_from_its_command_palette(tmp_path: Path, monkeypatch) -> None:
    import platformdirs

    from mailsim.clock import FixedClock, SequentialIds
    from mailsim.store.world import build_store
    from mailsim.ui.app import make_app

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda name: str(tmp_path / name))
    recordings = tmp_path / "mailsim" / "recordings"
    recordings.mkdir(parents=True)
    (recordings / "20260921-133320.jsonl").write_text(
        "\n".join(__import__("json").dumps(r) for r in _records_of(SMTP)) + "\n", encoding="utf-8"
    )
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    app = make_app(store, lang="en", cursor_blink=False)
    async with app.run_test(size=(140, 45)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "Replay example: pop3-three-states" in commands
        commands["Replay the latest recording"].callback()
        screen = await loaded(pilot)
        assert screen.path.name == "20260921-133320.jsonl"
        await pilot.press("end")
        assert screen.position == len(screen.replay.steps) and not screen.replay.differences
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, ReplayScreen) and app.is_running


def _records_of(path: Path) -> list[dict]:
    from mailsim.transcript.rfcstyle import script_to_records
    from mailsim.transcript.script import load_script

    return script_to_records(load_script(path))


def test_snapshot_of_two_sessions_side_by_side(snap_compare) -> None:
    idle = assets_dir() / "transcripts" / "imap-idle-woken-by-delivery.txt"
    replay = Replay.load(idle)
    app = make_replay_app(idle.name, lang="en", replay=replay)
    dot = next(s.number for s in replay.steps if s.client.endswith(b".\r\n"))

    async def run_before(pilot) -> None:
        await loaded(pilot)
        pilot.app.screen.go(dot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 44), run_before=run_before)


async def test_each_session_has_its_own_pane() -> None:
    idle = assets_dir() / "transcripts" / "imap-idle-woken-by-delivery.txt"
    app = make_replay_app(idle, lang="en")
    async with app.run_test(size=(150, 44)) as pilot:
        screen = await loaded(pilot)
        dot = next(s.number for s in screen.replay.steps if s.client.endswith(b".\r\n"))
        screen.go(dot)
        await pilot.pause()
        panes = {str(p.border_title): str(p.content) for p in screen.query(".pane") if p.display}
        assert set(panes) == {"smtp-bob · SMTP", "imap-alice · IMAP"}
        assert "S: * 8 EXISTS" in panes["imap-alice · IMAP"]
        assert "C: ." in panes["smtp-bob · SMTP"]
        screen.go(dot - 1)
        await pilot.pause()
        panes = {str(p.border_title): str(p.content) for p in screen.query(".pane") if p.display}
        assert "* 8 EXISTS" not in panes["imap-alice · IMAP"]


async def test_a_message_opens_in_the_inspector_as_it_was_at_that_step() -> None:
    from mailsim.ui.inspector.screen import InspectorScreen

    app = make_replay_app(SMTP, lang="en")
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await loaded(pilot)
        dot = next(s.number for s in screen.replay.steps if s.client.endswith(b".\r\n"))
        screen.go(dot)
        await pilot.pause()
        assert screen.mailbox_key in {("alice", "INBOX"), ("bob", "INBOX")}
        listing = screen.query_one("#listing")
        listing.move_cursor(row=listing.row_count - 1)  # the message just delivered
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen)
        row = screen.replay.mailboxes_at(dot)[screen.mailbox_key][int(str(listing.get_row_at(listing.row_count - 1)[0]))]
        assert row.subject == "Practica 3: reparto de tareas"
        assert b"Received: from laptop-de-bob.mailsim.test" in row.raw


@pytest.mark.parametrize(("lang", "size", "meaning"), [("en", (120, 40), "Meaning"), ("es", (80, 24), "Significado")])
async def test_replay_shows_the_state_machine_and_what_each_reply_means(lang, size, meaning) -> None:
    """As beside the live console: the diagram with the state reached, the last reply
    explained; forward and back keep them in step with the timeline."""
    from mailsim.ui.replay.explained import StepExplained

    app = make_replay_app(POP3, lang=lang)
    async with app.run_test(size=size) as pilot:
        screen = await loaded(pilot)
        password = next(s.number for s in screen.replay.steps if s.client == b"PASS wonderland\r\n")
        await pilot.press("g", *str(password), "enter")
        await pilot.pause()
        explained = screen.query_one("#explained", StepExplained)
        assert explained.machine.model.state == "transaction"
        assert explained.machine.model.last_transition.new == "transaction"
        words = "\n".join(strip.text for strip in explained.explained._lines)
        assert meaning in words and "PASS" in words
        await pilot.press("left")
        await pilot.pause()
        assert explained.machine.model.state == "authorization"
        assert explained.explained.size.height >= 3  # readable at 80x24 too
