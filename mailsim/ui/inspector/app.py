"""`mailsim inspect FILE.eml`: the inspector as an app of its own.

``make_inspector_app`` is the one factory the CLI and the tests use.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App
from textual.screen import Screen

from mailsim.mime import build_model
from mailsim.ui.inspector.screen import InspectorScreen
from mailsim.ui.inspector.texts import Texts


class InspectorApp(App[int]):
    TITLE = "mailsim"
    # A default screen's own CSS_PATH is not loaded by Textual: the app loads it.
    CSS_PATH = InspectorScreen.CSS_PATH

    def __init__(self, raw: bytes, *, title: str = "", lang: str = "en", dark: bool = True) -> None:
        super().__init__()
        self.raw = raw
        self.message_title = title
        self.lang = lang
        self.theme = "textual-dark" if dark else "textual-light"

    def get_default_screen(self) -> Screen:
        return InspectorScreen(build_model(self.raw), title=self.message_title, lang=self.lang)


def make_inspector_app(raw: bytes, *, title: str = "", lang: str = "en", dark: bool = True) -> InspectorApp:
    return InspectorApp(raw, title=title, lang=lang, dark=dark)


def run_inspect(path: str | Path, *, lang: str | None = None) -> int:
    """Open ``path`` in the inspector; 2 if it cannot be read."""
    from mailsim.ui.strings import default_language

    lang = lang or default_language()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print("mailsim: " + Texts(lang)("ui.open-failed", path=path, error=exc.strerror or exc), file=sys.stderr)
        return 2
    app = make_inspector_app(raw, title=path.name, lang=lang)
    app.run()
    return 0
