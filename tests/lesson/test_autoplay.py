"""Every shipped lesson, played end to end by the headless student in both languages:
demo lines typed into real engine sessions, questions answered right. A lesson whose
protocol has no engine yet is skipped, with that reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsim.events import ClientLine, Reply
from mailsim.lesson.autoplay import AutoplayError, autoplay, missing_engines
from mailsim.lesson.loader import check_files, lesson_files, load_lesson
from mailsim.lesson.messages import LessonFinished, StepCompleted
from mailsim.lesson.model import LANGUAGES

LESSONS = lesson_files()


def test_the_library_is_not_empty_and_checks_clean() -> None:
    assert len(LESSONS) >= 4
    assert check_files(LESSONS) == []


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_plays_to_the_end(path: Path, lang: str) -> None:
    lesson = load_lesson(path)
    missing = missing_engines(lesson)
    if missing:
        pytest.skip(f"no engine yet for {', '.join(p.value for p in missing)}")
    played = autoplay(lesson, lang)
    completed = [m.step.id for m in played.messages if isinstance(m, StepCompleted)]
    assert completed == [step.id for step in lesson.steps]
    assert isinstance(played.messages[-1], LessonFinished) or any(isinstance(m, LessonFinished) for m in played.messages)
    assert played.runner.finished


def test_autoplay_fails_loudly_when_a_demo_no_longer_works(tmp_path: Path) -> None:
    source = Path(LESSONS[0]).parent / "02-smtp-first-session.toml"
    broken = tmp_path / "02.toml"
    # A demo that the server refuses: the step expecting 250 to RCPT never completes.
    broken.write_text(source.read_text(encoding="utf-8").replace('demo = "RCPT TO:<bob@mailsim.test>"', 'demo = "RCPT TO:<nadie@mailsim.test>"'), encoding="utf-8")
    lesson = load_lesson(broken)
    with pytest.raises(AutoplayError, match="rcpt-to.*did not complete"):
        autoplay(lesson, "es")


def test_first_session_transcript_is_the_textbook_dialog() -> None:
    played = autoplay(load_lesson(Path(LESSONS[0]).parent / "02-smtp-first-session.toml"), "en")
    codes = [e.code for e in played.transcript if isinstance(e, Reply)]
    assert codes == ["220", "250", "250", "250", "354", "250", "221"]
    verbs = [e.data.split(b" ")[0].strip() for e in played.transcript if isinstance(e, ClientLine)]
    assert verbs[:4] == [b"EHLO", b"MAIL", b"RCPT", b"DATA"]
    bob = played.store.mailbox("bob", "INBOX").messages[-1]
    assert b"Subject: Mi primer mensaje por SMTP" in bob.raw
