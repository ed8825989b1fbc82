"""In a lesson, Ctrl+R still toggles the lesson panel and F12 opens the queue and DNS;
the queue relays for the lesson's own store."""

from __future__ import annotations

from pathlib import Path

from mailsim.lesson.loader import lesson_files
from mailsim.ui.screens.queue import QueueScreen

from .harness import lesson_screen, lessons_app

LESSON_1 = next(p for p in lesson_files() if p.name.startswith("01-"))


async def test_lesson_keys_and_the_queue_screen(tmp_path: Path) -> None:
    app = lessons_app(LESSON_1, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        showing = screen.showing_sidebar
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.showing_sidebar != showing and app.screen is screen
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen) and app.screen.store is app.store
        assert app.queue_scheduler.store is app.store  # the lesson's store, not the one before it
