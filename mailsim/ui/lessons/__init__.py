"""Lessons in the TUI: the lesson picker, and the lesson panel beside the console.

    app.py       run(path, lang) for `mailsim lessons` / `mailsim lesson ID|PATH`; make_lessons_app()
    start.py     start_lesson(app, lesson), open_picker(app), the palette's lesson entries
    screen.py    LessonScreen: the main screen with the lesson panel; runs the LessonRunner
    panel.py     LessonPanel: steps with ticks, the step's text, hints, questions, the end
    view.py      what the panel shows, computed from the runner (no Textual)
    picker.py    LessonPickerScreen: the library with progress per lesson
    catalog.py   the library, settings (progress, reports, student), report files (no Textual)
    inspect.py   the MIME inspector reporting the parts the student opens
"""

from __future__ import annotations

from pathlib import Path

from mailsim.ui.lessons.catalog import LessonSettings


def run(path: Path | None, lang: str | None = None) -> int:
    """`mailsim lessons` (path None: the picker) and `mailsim lesson ID|PATH`."""
    from mailsim.ui.lessons.app import run as run_app

    return run_app(path, lang=lang)


__all__ = ["LessonSettings", "run"]
