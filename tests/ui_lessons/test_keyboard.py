"""Nothing the student types is lost to a lesson: questions answered by number with the
keyboard back in the console afterwards, characters typed into a question kept for the
console, the inspector announced (not pushed) while typing, and "type it for me" typing
every line of a message in DATA."""

from __future__ import annotations

from pathlib import Path

from mailsim.events import ClientLine
from mailsim.lesson.loader import lesson_files
from mailsim.ui.lessons.screen import LessonScreen

from .harness import lesson_screen, lessons_app, settle

LESSON_2 = next(p for p in lesson_files() if p.name.startswith("02-"))
TO_DATA = ["EHLO pc.example", "MAIL FROM:<alice@mailsim.test>", "RCPT TO:<bob@mailsim.test>", "DATA"]


async def submit(pilot, line: str) -> None:
    """A whole line typed into the focused console input and sent with Enter."""
    pilot.app.focused.value = line
    await pilot.press("enter")
    await settle(pilot, 1)


async def to_the_question(pilot) -> LessonScreen:
    screen = await lesson_screen(pilot)
    for line in TO_DATA:
        await submit(pilot, line)
    await settle(pilot)
    assert screen.runner.step.id == "class-of-354"
    return screen


async def test_a_question_is_answered_by_its_number_and_the_console_gets_the_keyboard_back(tmp_path: Path):
    app = lessons_app(LESSON_2, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_the_question(pilot)
        assert screen.focused is screen.panel.choices
        assert str(screen.panel.choices.get_option_at_index(0).prompt).startswith("1) ")
        await pilot.press("2")  # wrong: its feedback, and the choices keep the keyboard
        await settle(pilot)
        assert screen.runner.step.id == "class-of-354"
        assert screen.focused is screen.panel.choices
        await pilot.press("1")
        await settle(pilot)
        assert screen.runner.step.id == "message"
        command = screen.pane(app.active_model().session_id).command_input
        assert screen.focused is command


async def test_text_typed_into_a_question_is_kept_for_the_console(tmp_path: Path):
    app = lessons_app(LESSON_2, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_the_question(pilot)
        await pilot.press(*"From:")
        await settle(pilot)
        assert screen.runner.step.id == "class-of-354"  # no answer was given by those keys
        command = screen.pane(app.active_model().session_id).command_input
        assert command.value == "From:"


async def test_the_demo_key_types_every_line_of_the_message_and_quit_is_not_swallowed(tmp_path: Path):
    app = lessons_app(LESSON_2, tmp_path)
    sent: list[bytes] = []
    app.bus.subscribe(lambda e: sent.append(e.data) if isinstance(e, ClientLine) else None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_the_question(pilot)
        await pilot.press("1")
        await settle(pilot)
        demo = screen.runner.step.demo
        await pilot.press("ctrl+y")
        for _line in demo:  # one Ctrl+Y; each Enter sends a line and the next is typed in
            await pilot.press("enter")
            await pilot.pause()
        await settle(pilot)
        assert [line.rstrip(b"\r\n").decode() for line in sent[-len(demo):]] == list(demo)
        assert screen.runner.step.id == "quit"
        # The lesson's inspector was announced, not pushed: the next line reaches the console.
        assert app.screen is screen
        await submit(pilot, "QUIT")
        assert sent[-1] == b"QUIT\r\n"
        await pilot.press("ctrl+t")  # the announced message opens on demand
        await settle(pilot)
        assert app.screen is not screen
