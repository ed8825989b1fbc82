"""Small host apps for the inspector and composer screens, as the tests need them."""

from __future__ import annotations

from textual.app import App

from mailsim.mime.compose import Draft, Submission
from mailsim.ui.composer import ComposerScreen


class ComposerHost(App[None]):
    """An app whose only screen is the composer; keeps what it dismisses with."""

    def __init__(self, draft: Draft | None = None, forwardable=(), lang: str = "en") -> None:
        super().__init__()
        self.draft = draft
        self.forwardable = forwardable
        self.lang = lang
        self.cursor_blink = False
        self.submissions: list[Submission | None] = []

    def on_mount(self) -> None:
        self.push_screen(ComposerScreen(self.draft, forwardable=self.forwardable, lang=self.lang),
                         self.submissions.append)
