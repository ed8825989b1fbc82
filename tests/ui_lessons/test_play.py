"""An automated student plays the lessons through the TUI, with the student's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsim.lesson.autoplay import missing_engines
from mailsim.lesson.loader import lesson_files, load_lesson

from .harness import lessons_app, play_lesson

LESSON_2 = next(p for p in lesson_files() if p.name.startswith("02-"))


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_lesson_2_played_with_the_demo_key_and_enter(tmp_path: Path, lang: str) -> None:
    app = lessons_app(LESSON_2, tmp_path, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await play_lesson(pilot, lang)
        runner = screen.runner
        assert runner.finished
        assert set(runner.progress.completed) == {s.id for s in runner.lesson.steps}
        # Bob really got the message typed through the console.
        subjects = [m.raw for m in app.store.mailbox("bob", "INBOX").messages]
        assert any(b"Mi primer mensaje por SMTP" in raw for raw in subjects)
        # The end of the lesson is on the panel, with the report's paths.
        view = screen.panel.view
        assert view is not None and view.finished
        md, html = screen.report_paths
        assert md.read_text(encoding="utf-8").count("[x]") == len(runner.lesson.steps)
        assert "<html" in html.read_text(encoding="utf-8")
        assert md.name in view.text and html.name in view.text


def _one_language(path: Path) -> str:
    """Each lesson through the TUI in one language (alternating by its number: the
    headless autoplayer in tests/lesson plays all of them in both); lesson 2 in both
    languages is the test above."""
    number = path.name.split("-", 1)[0]
    return "es" if not number.isdigit() or int(number) % 2 else "en"


@pytest.mark.parametrize("path", lesson_files(), ids=lambda p: p.stem)
async def test_every_lesson_played_through_the_tui(tmp_path: Path, path: Path) -> None:
    lesson = load_lesson(path)
    missing = missing_engines(lesson)
    if missing:
        pytest.skip("no engine yet for " + ", ".join(p.value for p in missing))
    lang = _one_language(path)
    app = lessons_app(path, tmp_path, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await play_lesson(pilot, lang)
        assert screen.runner.finished
        assert screen.report_paths is not None and screen.report_paths[0].exists()
