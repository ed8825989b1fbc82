"""`mailsim lessons` (the picker) and `mailsim lesson ID|PATH` (straight into a lesson):
the main app, opened on the picker or on the lesson's screen.

`make_lessons_app` is the one factory for the CLI and the tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mailsim.lesson.loader import load_lesson
from mailsim.store.world import build_store
from mailsim.events import Protocol
from mailsim.ui import app as app_module
from mailsim.ui.app import MailsimApp
from mailsim.ui.lessons.catalog import LessonSettings
from mailsim.ui.lessons.start import open_picker, start_lesson
from mailsim.ui.strings import default_language


class LessonsApp(MailsimApp):
    """The main app that opens on a lesson (or on the lesson picker)."""

    # Relative CSS paths resolve against the defining module: point at the app's own.
    CSS_PATH = [str(Path(app_module.__file__).parent / p) for p in (
        [MailsimApp.CSS_PATH] if isinstance(MailsimApp.CSS_PATH, str) else MailsimApp.CSS_PATH)]

    def __init__(self, *args: Any, lesson_path: Path | None = None, lesson_settings: LessonSettings | None = None,
                 resume: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lesson_path = lesson_path
        self.lesson_settings = lesson_settings or LessonSettings()
        self.resume = resume
        self._opened = False

    async def main_screen_ready(self) -> None:
        await super().main_screen_ready()
        if self._opened:  # the lesson's own screen is a main screen too
            return
        self._opened = True
        # Not awaited here: this runs inside the main screen's mount, and starting a
        # lesson replaces that screen.
        if self.lesson_path is not None:
            self.call_later(start_lesson, self, self.lesson_path, resume=self.resume)
        else:
            self.call_later(open_picker, self, quit_on_close=True)


def make_lessons_app(
    path: Path | None = None,
    *,
    lang: str | None = None,
    settings: LessonSettings | None = None,
    resume: bool = True,
    **options: Any,
) -> LessonsApp:
    """The app on the lesson at `path` (None: the picker). `options` are the main
    app's (clock, ids, engines, cursor_blink, dark...)."""
    world = load_lesson(path).world if path is not None else None
    store = options.pop("store", None) or build_store(world, clock=options.get("clock"), ids=options.get("ids"))
    options["open_on_start"] = tuple(Protocol(p) for p in options.get("open_on_start", ()))
    app = LessonsApp(store, lang=lang or default_language(), lesson_path=path, lesson_settings=settings,
                     resume=resume, **options)
    app.lang_from_locale = not lang
    return app


def run(path: Path | None, lang: str | None = None) -> int:
    """`mailsim lessons` (path None: the picker) and `mailsim lesson ID|PATH`."""
    result = make_lessons_app(path, lang=lang).run()
    return result if isinstance(result, int) else 0
