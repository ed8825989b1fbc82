"""The `mailsim lessons ...` and `mailsim lesson ...` subcommands (text output only;
the picker and the lesson panel live in the UI)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mailsim.lesson.loader import LessonError, check_files, lesson_files, load_lesson


def check(paths: Sequence[str], out: TextIO | None = None) -> int:
    """Validate lesson files (default: the shipped library); 1 if any problem."""
    out = out or sys.stdout
    files = [Path(p) for p in paths] if paths else lesson_files()
    problems = check_files(files)
    for problem in problems:
        print(problem, file=out)
    if not problems:
        print(f"{len(files)} lesson file(s) OK", file=out)
    return 1 if problems else 0


# Level names as `mailsim lessons list` prints them (the picker's are in ui/strings).
_LEVELS = {
    "es": {"beginner": "inicial", "intermediate": "intermedio", "advanced": "avanzado"},
    "en": {"beginner": "beginner", "intermediate": "intermediate", "advanced": "advanced"},
}


def list_lessons(lang: str = "es", out: TextIO | None = None, err: TextIO | None = None) -> int:
    """One line per shipped lesson: id, title, protocols, level, minutes."""
    out, err = out or sys.stdout, err or sys.stderr
    status = 0
    rows = []
    for path in lesson_files():
        try:
            lesson = load_lesson(path)
        except LessonError as exc:
            print(exc, file=err)
            status = 1
            continue
        protocols = ",".join(p.value.upper() for p in lesson.protocols)
        level = _LEVELS.get(lang, _LEVELS["en"]).get(lesson.level.value, lesson.level.value)
        rows.append((lesson.id, lesson.title.get(lang), protocols, level, f"{lesson.minutes} min"))
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip(), file=out)
    return status


def find_lesson(reference: str) -> Path | None:
    """A lesson given as a path, as the id of a shipped lesson, or by its number in
    the library (`02` or `2` for `02-….toml`)."""
    path = Path(reference)
    if path.suffix == ".toml" or path.exists():
        return path
    if reference.isdigit():
        for candidate in lesson_files():
            number = candidate.name.split("-", 1)[0]
            if number.isdigit() and int(number) == int(reference):
                return candidate
    for candidate in lesson_files():
        try:
            if load_lesson(candidate).id == reference:
                return candidate
        except LessonError:
            continue
    return None


def open_in_ui(reference: str | None, lang: str | None, out: TextIO | None = None) -> int:
    """`mailsim lessons` (picker) and `mailsim lesson ID|PATH`: handed to the UI."""
    out = out or sys.stderr
    path = None
    if reference is not None:
        path = find_lesson(reference)
        if path is None:
            print(f"mailsim: no lesson {reference!r} (see 'mailsim lessons list')", file=out)
            return 2
        try:
            load_lesson(path)
        except LessonError as exc:
            print(exc, file=out)
            return 1
    try:
        from mailsim.ui import lessons as ui_lessons
    except ImportError:
        print(
            "mailsim: the lesson screens are not part of this build yet; "
            "'mailsim lessons list' and 'mailsim lessons check' work",
            file=out,
        )
        return 1
    return ui_lessons.run(path, lang=lang)
