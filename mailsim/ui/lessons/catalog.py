"""The lesson library as the picker lists it: each file's lesson (or why it does not
load) and the student's saved progress. No Textual here."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from mailsim.lesson.loader import LessonError, lesson_files, load_lesson
from mailsim.lesson.model import Lesson
from mailsim.lesson.progress import LessonProgress, ProgressStore
from mailsim.private import write_private_text


def default_report_dir() -> Path:
    return Path(platformdirs.user_data_dir("mailsim")) / "reports"


# Accounts that name a machine's role, not a person: a report never says "Student: root".
_NOT_A_PERSON = {"root", "admin", "administrator", "user", "guest", "nobody", "ubuntu", "debian", "pi", "student"}


def _student(environ: dict[str, str] | None = None) -> str:
    """Who hands the report in: `MAILSIM_STUDENT`, else the account's real name (the
    GECOS field), else the login name unless it is a role account such as root.
    Empty: the report leaves a line to write the name on."""
    env = os.environ if environ is None else environ
    if env.get("MAILSIM_STUDENT", "").strip():
        return env["MAILSIM_STUDENT"].strip()
    try:
        import pwd

        entry = pwd.getpwuid(os.getuid())
        real_name = entry.pw_gecos.split(",")[0].strip()
        login = entry.pw_name
    except (ImportError, KeyError, OSError):  # Windows, or an unnamed uid in a container
        real_name = ""
        try:
            login = getpass.getuser()
        except Exception:
            login = ""
    if real_name and real_name.lower() not in _NOT_A_PERSON:
        return real_name
    return login if login and login.lower() not in _NOT_A_PERSON else ""


@dataclass
class LessonSettings:
    """Where progress and reports go, who the student is, which library the picker
    lists, and the clock the runner stamps steps with. Tests pass their own."""

    progress: ProgressStore = field(default_factory=ProgressStore)
    report_dir: Path = field(default_factory=default_report_dir)
    student: str = field(default_factory=_student)
    library: tuple[Path, ...] | None = None      # None: the shipped lessons
    clock: Callable[[], float] = time.time

    def files(self) -> list[Path]:
        return list(self.library) if self.library is not None else lesson_files()


@dataclass(frozen=True)
class LessonEntry:
    path: Path
    lesson: Lesson | None
    error: str = ""
    progress: LessonProgress | None = None

    @property
    def done(self) -> int:
        return len(self.progress.completed) if self.progress is not None else 0

    @property
    def total(self) -> int:
        return len(self.lesson.steps) if self.lesson is not None else 0

    @property
    def finished(self) -> bool:
        return self.progress is not None and self.progress.finished


def catalog(files: Iterable[Path], progress: ProgressStore) -> list[LessonEntry]:
    """One entry per file, in order; a file that does not load keeps its first problem."""
    saved = progress.all()
    entries = []
    for path in files:
        try:
            lesson = load_lesson(path)
        except LessonError as exc:
            first = str(exc).strip().splitlines()
            entries.append(LessonEntry(path, None, first[0] if first else "?"))
            continue
        entries.append(LessonEntry(path, lesson, progress=saved.get(lesson.id)))
    return entries


def write_report(report_dir: Path, lesson_id: str, markdown: str, html: str) -> tuple[Path, Path]:
    """Write the lab report as `<lesson id>.md` and `.html`; returns both paths."""
    md_path, html_path = report_dir / f"{lesson_id}.md", report_dir / f"{lesson_id}.html"
    write_private_text(md_path, markdown)  # 0600: a student's work, on a shared machine
    write_private_text(html_path, html)
    return md_path, html_path


def shown_path(path: Path) -> str:
    """A path as the student reads it: `~` for the home directory."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)
