"""A student's progress through each lesson, kept per user on disk.

One JSON file per lesson in the platform's user data directory
(`platformdirs.user_data_dir("mailsim")/progress/`): the current step, when each step
was done, hints used, answers given, and the session transcript (as the recorder's
event records) for the lab report. Written atomically, so a crash never leaves half a
file; an unreadable file is treated as no progress rather than a crash.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

PROGRESS_VERSION = 1


@dataclass
class AnswerRecord:
    answer: str
    correct: bool
    at: float


@dataclass
class LessonProgress:
    lesson_id: str
    step_index: int = 0
    completed: dict[str, float] = field(default_factory=dict)  # step id -> when
    hints: dict[str, int] = field(default_factory=dict)         # step id -> hints shown
    answers: dict[str, list[AnswerRecord]] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.finished_at > 0

    def to_json(self) -> dict[str, Any]:
        return {"version": PROGRESS_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LessonProgress":
        if data.get("version") != PROGRESS_VERSION:
            raise ValueError("unknown progress version")
        answers = {
            step: [AnswerRecord(str(a["answer"]), bool(a["correct"]), float(a["at"])) for a in records]
            for step, records in dict(data.get("answers", {})).items()
        }
        return cls(
            lesson_id=str(data["lesson_id"]),
            step_index=int(data.get("step_index", 0)),
            completed={str(k): float(v) for k, v in dict(data.get("completed", {})).items()},
            hints={str(k): int(v) for k, v in dict(data.get("hints", {})).items()},
            answers=answers,
            transcript=list(data.get("transcript", [])),
            started_at=float(data.get("started_at", 0.0)),
            finished_at=float(data.get("finished_at", 0.0)),
        )


def default_progress_dir() -> Path:
    return Path(platformdirs.user_data_dir("mailsim")) / "progress"


class ProgressStore:
    """Loads, saves and resets progress files under `root` (default: the user's data dir)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_progress_dir()

    def path_of(self, lesson_id: str) -> Path:
        return self.root / f"{lesson_id}.json"

    def load(self, lesson_id: str) -> LessonProgress | None:
        path = self.path_of(lesson_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return LessonProgress.from_json(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged file is no progress, not a crash

    def save(self, progress: LessonProgress) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path_of(progress.lesson_id)
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=f".{progress.lesson_id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(progress.to_json(), handle, ensure_ascii=False)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def reset(self, lesson_id: str) -> None:
        self.path_of(lesson_id).unlink(missing_ok=True)

    def all(self) -> dict[str, LessonProgress]:
        """Progress of every lesson started (for the picker)."""
        found = {}
        for path in sorted(self.root.glob("*.json")) if self.root.is_dir() else ():
            progress = self.load(path.stem)
            if progress is not None:
                found[progress.lesson_id] = progress
        return found
