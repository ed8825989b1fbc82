"""Command-palette entries of the main app that open the replay screen: the newest
recording in the user data directory, and each shipped example."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import App
from textual.app import SystemCommand

from mailsim.resources import assets_dir
from mailsim.transcript.recorder import recordings_dir
from mailsim.ui.replay.screen import ReplayScreen
from mailsim.ui.replay.texts import Texts


def newest_recording(folder: Path | None = None) -> Path | None:
    folder = folder or recordings_dir()
    found = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    return found[-1] if found else None


def replay_commands(app: App, lang: str) -> Iterable[SystemCommand]:
    texts = Texts(lang)

    def open_newest() -> None:
        path = newest_recording()
        if path is None:
            app.notify(texts("palette.none", folder=recordings_dir()))
        else:
            app.push_screen(ReplayScreen(path, lang=lang))

    yield SystemCommand(texts("palette.latest"), texts("palette.latest-help"), open_newest)
    for example in sorted((assets_dir() / "transcripts").glob("*.txt")):
        yield SystemCommand(texts("palette.example", name=example.stem), texts("palette.example-help"),
                            lambda path=example: app.push_screen(ReplayScreen(path, lang=lang)))
