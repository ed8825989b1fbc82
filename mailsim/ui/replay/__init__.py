"""The replay screen: step through a recorded session, forward and back, against
today's server. `mailsim replay FILE` opens it; the main app can push `ReplayScreen`."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from mailsim.transcript.replay import Replay
from mailsim.ui.replay.screen import ReplayScreen

__all__ = ["ReplayApp", "ReplayScreen", "make_replay_app", "run_replay_app"]


class ReplayApp(App[int]):
    """The replay screen on its own, for `mailsim replay FILE`."""

    TITLE = "mailsim"

    def __init__(self, path: str | Path, *, lang: str = "en", replay: Replay | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.lang = lang
        self._replay = replay
        self._localize_palette_key()

    def _localize_palette_key(self) -> None:
        """Textual's "palette" under ^p, in the replay's language as in the main app."""
        import dataclasses

        from textual.binding import BindingsMap

        from mailsim.ui.strings import Strings

        label = Strings(self.lang)("keys.palette")
        localized = BindingsMap()
        for _key, binding in self._bindings:
            if binding.action == "command_palette":
                binding = dataclasses.replace(binding, description=label, tooltip=label)
            localized._add_binding(binding)
        self._bindings = localized

    def on_mount(self) -> None:
        self.push_screen(ReplayScreen(self.path, lang=self.lang, replay=self._replay))


def make_replay_app(path: str | Path, *, lang: str | None = None, replay: Replay | None = None) -> ReplayApp:
    if lang is None:
        from mailsim.ui.strings import default_language

        lang = default_language()
    return ReplayApp(path, lang=lang, replay=replay)


def run_replay_app(path: str | Path, *, lang: str | None = None) -> int:
    result = make_replay_app(path, lang=lang).run()
    return result if isinstance(result, int) else 0
