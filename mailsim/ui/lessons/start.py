"""Starting a lesson inside a running app, and the lesson entries of the command palette.

A lesson starts from its own world in a fresh store: the app's console sessions are
closed, the store is replaced (TCP servers, if listening, move to the new one), and
the main screen is replaced by a `LessonScreen`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from textual.app import SystemCommand
from textual.screen import Screen

from mailsim.lesson.loader import LessonError, load_lesson
from mailsim.lesson.model import Lesson
from mailsim.store.world import build_store
from mailsim.ui.lessons.catalog import LessonSettings
from mailsim.ui.lessons.picker import LessonPickerScreen
from mailsim.ui.lessons.screen import LessonScreen
from mailsim.ui.screens.main import MainScreen


def settings_of(app: Any) -> LessonSettings:
    """The app's lesson settings (created with the defaults the first time)."""
    settings = getattr(app, "lesson_settings", None)
    if settings is None:
        settings = LessonSettings()
        app.lesson_settings = settings
    return settings


async def start_lesson(app: Any, lesson: Lesson | Path, *, resume: bool = True,
                       prerequisites_shown: bool = False) -> LessonScreen | None:
    """Replace the app's main screen by the lesson's, on a fresh store of its world.
    `prerequisites_shown`: the student saw them already (the picker lists them)."""
    if not isinstance(lesson, Lesson):
        try:
            lesson = load_lesson(lesson)
        except LessonError as exc:
            app.notify(str(exc), severity="error", timeout=10)
            return None
    while len(app.screen_stack) > 1 and not isinstance(app.screen, MainScreen):
        app.pop_screen()
    old = app.screen
    if isinstance(old, LessonScreen):
        old.detach()
    for session_id in list(app.sessions):
        await app.close_session(session_id)
    was_listening = app.servers is not None
    if was_listening:
        await app.stop_listening()
    app.store = build_store(lesson.world, clock=app.clock, ids=app.ids)
    app.open_on_start = ()
    app.listen_on_start = was_listening
    screen = LessonScreen(lesson, settings_of(app), resume=resume, mention_prerequisites=not prerequisites_shown)
    if isinstance(old, MainScreen):
        await app.switch_screen(screen)
    else:
        await app.push_screen(screen)
    return screen


def open_picker(app: Any, *, quit_on_close: bool = False) -> None:
    """Push the lesson picker; the lesson chosen starts at once."""

    async def chosen(path: Path | None) -> None:
        if path is not None:
            await start_lesson(app, path, prerequisites_shown=True)
        elif quit_on_close:
            app.exit(0)

    app.push_screen(LessonPickerScreen(app.strings, settings_of(app)), chosen)


def lesson_screen_of(app: Any) -> LessonScreen | None:
    """The lesson under way (its screen may be under the inspector or the help)."""
    return next((s for s in reversed(app.screen_stack) if isinstance(s, LessonScreen)), None)


async def reset_lesson(app: Any) -> None:
    """Forget the current lesson's progress and start it again on a fresh store."""
    screen = lesson_screen_of(app)
    if screen is None:
        return
    screen.settings.progress.reset(screen.lesson.id)
    await start_lesson(app, screen.lesson, resume=False, prerequisites_shown=True)


def palette_commands(app: Any, screen: Screen | None = None) -> Iterator[SystemCommand]:
    """The palette's lesson entries: the picker always; the rest during a lesson."""
    t = app.strings
    yield SystemCommand(t("lessons.palette.pick"), t("lessons.palette.pick-help"), lambda: open_picker(app))
    screen = lesson_screen_of(app)
    if screen is None:
        return
    entries = [
        ("lessons.palette.hint", screen.action_hint),
        ("lessons.palette.demo", screen.action_demo),
        ("lessons.palette.continue", screen.action_continue),
        ("lessons.palette.panel", screen.action_toggle_panel),
    ]
    for key, callback in entries:
        yield SystemCommand(t(key), t(key + "-help"), callback)

    async def reset() -> None:
        await reset_lesson(app)

    yield SystemCommand(t("lessons.palette.reset"), t("lessons.palette.reset-help"), reset)
