"""The lessons app as the tests build it, and an automated student who plays a lesson
through the TUI: the demo key and Enter for each line, answers typed or chosen in the
panel, continue on reading steps, Escape out of the inspector."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input
from uihelpers import HeldClock, enter_line

from mailsim.clock import FixedClock, SequentialIds
from mailsim.lesson.model import MessageOpened, QuestionKind
from mailsim.lesson.progress import ProgressStore
from mailsim.ui.lessons.app import LessonsApp, make_lessons_app
from mailsim.ui.lessons.catalog import LessonSettings
from mailsim.ui.lessons.screen import LessonScreen

START = 1_790_000_000.0


def settings(root: Path) -> LessonSettings:
    return LessonSettings(
        progress=ProgressStore(root / "progress"),
        report_dir=root / "reports",
        student="student",
        clock=FixedClock(START, step=30.0).now,
    )


def lessons_app(path: Path | None, root: Path, *, lang: str = "en", **options) -> LessonsApp:
    options.setdefault("lesson_settings", None)
    options.pop("lesson_settings")
    return make_lessons_app(
        path,
        lang=lang,
        settings=options.pop("settings", None) or settings(root),
        clock=FixedClock(START),
        ids=SequentialIds("Q"),
        cursor_blink=False,
        highlight_clock=options.pop("highlight_clock", None) or HeldClock(),
        **options,
    )


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let queued messages, timers and animations run out (a loaded CI machine needs
    more than a fixed number of turns)."""
    for _ in range(rounds):
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def lesson_screen(pilot: Pilot) -> LessonScreen:
    """Wait for the lesson's screen to be up and its runner started."""
    for _ in range(50):
        await pilot.pause()
        for screen in pilot.app.screen_stack:  # the lesson may have opened the inspector on top
            if isinstance(screen, LessonScreen) and screen.runner._started and screen.panel.view is not None:
                return screen
    raise AssertionError(f"no lesson screen; the screen is {pilot.app.screen!r}")


async def back_to_lesson(pilot: Pilot, screen: LessonScreen) -> None:
    """Close whatever the lesson opened on top (the MIME inspector)."""
    for _ in range(5):
        if pilot.app.screen is screen:
            return
        await pilot.press("escape")
        await settle(pilot)
    assert pilot.app.screen is screen, pilot.app.screen


async def open_the_part(pilot: Pilot, screen: LessonScreen) -> None:
    """In the inspector the lesson opened, walk down the tree of parts until the step
    ticks (its part is highlighted)."""
    runner, before = screen.runner, screen.runner.index
    for _ in range(30):
        await settle(pilot, 1)
        if runner.index != before or runner.finished:
            return
        if pilot.app.screen is screen:  # closed earlier: the demo key opens it again
            await pilot.press("ctrl+y")
            await settle(pilot)
            continue
        await pilot.press("down")


async def focus_on(pilot: Pilot, screen: LessonScreen, widget: object) -> None:
    """Wait for the step to put the keyboard on `widget` (the panel shows the step first)."""
    for _ in range(20):
        if screen.focused is widget:
            return
        await pilot.pause()
    assert screen.focused is widget, screen.focused


async def demo_line(pilot: Pilot, line: str) -> None:
    """The demo key, then Enter once the line is in the input that has the keyboard
    (the key may first bring another session's tab to the front)."""
    await pilot.press("ctrl+y")
    for _ in range(20):
        focused = pilot.app.focused
        if isinstance(focused, Input) and focused.value == line:
            break
        await pilot.pause()
    await pilot.press("enter")


async def play_step(pilot: Pilot, screen: LessonScreen, lang: str) -> None:
    """Do what the current step asks, with the keys a student would press."""
    runner = screen.runner
    step = runner.step
    assert step is not None
    if isinstance(step.expect, MessageOpened):
        await open_the_part(pilot, screen)
        return
    await back_to_lesson(pilot, screen)
    if step.is_reading:
        await pilot.press("ctrl+f")
    elif step.question is not None:
        question = step.question
        if question.kind is QuestionKind.CHOICE:
            right = [i for i, c in enumerate(question.choices) if c.correct]
            if len(right) == 1:
                await focus_on(pilot, screen, screen.panel.choices)
                await pilot.press("home", *(["down"] * right[0]), "enter")
            else:  # tick each right choice with Space, then check with the continue key
                await focus_on(pilot, screen, screen.panel.several)
                for index in right:
                    await pilot.press("home", *(["down"] * index), "space")
                await pilot.press("ctrl+f")
        else:
            answers = question.answers.get(lang) or next(iter(question.answers.values()))
            await focus_on(pilot, screen, screen.panel.answer_input)
            await enter_line(pilot, answers[0])
    elif not step.demo:
        pass  # the step's own actions do it (drop a connection)
    else:
        for line in step.demo:
            await demo_line(pilot, line)
    await settle(pilot, 1)


async def play_lesson(pilot: Pilot, lang: str, until: str | None = None) -> LessonScreen:
    """Play the lesson on screen to its end, or up to the step `until` (not played);
    fails naming the step that did not complete."""
    screen = await lesson_screen(pilot)
    runner = screen.runner
    guard = 0
    while not runner.finished and (until is None or runner.step.id != until):
        guard += 1
        assert guard <= 3 * len(runner.lesson.steps), "the lesson does not advance"
        before, step = runner.index, runner.step
        await play_step(pilot, screen, lang)
        for _ in range(100):  # a failed login's reply comes after a deliberate delay
            if runner.index != before or runner.finished:
                break
            await pilot.pause(0.05)
        assert runner.index != before or runner.finished, f"step {step.id!r} did not complete"
    await back_to_lesson(pilot, screen)
    await settle(pilot)
    return screen
