"""An automated student plays lessons through the TUI, with the student's keys: lesson 2
whole in both languages, and each thing other lessons make the lesson screen do."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsim.lesson.loader import lesson_files, load_lesson
from mailsim.lesson.progress import LessonProgress

from .harness import START, lesson_screen, lessons_app, play_lesson, settings

LESSON_2 = next(p for p in lesson_files() if p.name.startswith("02-"))


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_lesson_2_played_with_the_demo_key_and_enter(tmp_path: Path, lang: str) -> None:
    app = lessons_app(LESSON_2, tmp_path, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await play_lesson(pilot, lang)
        runner = screen.runner
        assert runner.finished
        assert set(runner.progress.completed) == {s.id for s in runner.lesson.steps}
        # Bob really got the message typed through the console.
        subjects = [m.raw for m in app.store.mailbox("bob", "INBOX").messages]
        assert any(b"Mi primer mensaje por SMTP" in raw for raw in subjects)
        # The end of the lesson is on the panel, with the report's paths.
        view = screen.panel.view
        assert view is not None and view.finished
        md, html = screen.report_paths
        assert md.read_text(encoding="utf-8").count("[x]") == len(runner.lesson.steps)
        assert "<html" in html.read_text(encoding="utf-8")
        assert md.name in view.text and html.name in view.text


# One lesson is played whole through the TUI (above); tests/lesson plays every lesson
# headless in both languages. What only other lessons make the lesson screen do is
# played here, from the step before it: the progress says the lesson stopped there, the
# screen brings the sessions back by replaying the earlier steps, and the student's keys
# do the rest. The lessons with several sessions open at once (14, 16) are played whole:
# resumed, their screen is slow to settle. Lesson 15 adds nothing these do not show.
# (lesson, first step played (None: a fresh start), step to stop before (None: the end), what it shows)
BEHAVIOURS = [
    ("01-mail-model", "the-model", "smtp-ehlo",
     "a reading step continued with its key, a choice question, a session opened by a step"),
    ("01-mail-model", "in-carmens-mailbox", "pop3-user", "a POP3 session opened mid-lesson beside the SMTP one"),
    ("03-smtp-reply-codes", None, "unknown-command",
     "the replies panel brought to the front by the lesson (narrow: the lesson says where it is)"),
    ("04-smtp-other-commands", "soml-saml", "why-turn", "a step to be done twice: the demo key gives each line"),
    ("05-mime-basics", "open-utf8", None,
     "the inspector on a delivered message, then opened on a part for a typed answer"),
    ("08-pop3-states", "wrong-password", "too-late", "a failed login's reply held back, the session then usable"),
    ("10-pop3-deleting", None, "stat-after-dele",
     "the mailboxes brought to the front by the lesson (narrow: the lesson says where they are)"),
    ("10-pop3-deleting", "dele-again", "dele-for-real",
     "the lesson drops the connection: the DELE marks come back; a new session is opened"),
    ("14-imap-two-clients-idle", None, None,
     "two named IMAP sessions, each line into its own; a view shown on success; "
     "a message delivered by the lesson reaches the IDLE session"),
    ("16-final-lab", None, None,
     "SMTP, IMAP and POP3 in one lesson; the inspector opened on success at a part; typed answers; "
     "a question with several right choices, ticked with Space"),
]


def _lesson(stem: str) -> Path:
    return next(p for p in lesson_files() if p.stem == stem)


@pytest.mark.parametrize("stem, first, until, what", BEHAVIOURS, ids=[f"{b[0][:2]}-{b[1] or 'start'}" for b in BEHAVIOURS])
async def test_lesson_screen_behaviour_played_from_the_step_before(tmp_path: Path, stem: str, first: str | None,
                                                                   until: str | None, what: str) -> None:
    path = _lesson(stem)
    lesson = load_lesson(path)
    ids = [s.id for s in lesson.steps]
    index = ids.index(first) if first else 0
    chosen = settings(tmp_path)
    if index:
        chosen.progress.save(LessonProgress(lesson.id, step_index=index, started_at=START,
                                            completed={step: START for step in ids[:index]}))
    app = lessons_app(path, tmp_path, lang="en", settings=chosen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_screen(pilot)
        # The earlier lines sent again may complete the steps right after the one resumed
        # at: a greeting ticks at once, and in lesson 01 the queue relays the message again.
        assert index <= screen.runner.index <= index + 2
        screen = await play_lesson(pilot, "en", until=until)
        runner = screen.runner
        played = ids[index:ids.index(until) if until else None]
        assert set(played) <= set(runner.progress.completed), what
        if until is None:
            assert runner.finished
            assert screen.report_paths is not None and screen.report_paths[0].exists()
        else:
            assert runner.step.id == until


async def test_a_resumed_lesson_sends_each_earlier_line_to_the_session_it_went_to(tmp_path: Path) -> None:
    """Lesson 14 opens a second IMAP session at its second step: the first step's lines,
    replayed on resume, belong to the first session, the latest open *at that step*."""
    lesson = load_lesson(_lesson("14-imap-two-clients-idle"))
    ids = [s.id for s in lesson.steps]
    chosen = settings(tmp_path)
    index = ids.index("phone-idle")
    chosen.progress.save(LessonProgress(lesson.id, step_index=index, started_at=START,
                                        completed={step: START for step in ids[:index]}))
    app = lessons_app(_lesson("14-imap-two-clients-idle"), tmp_path, lang="en", settings=chosen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_screen(pilot)
        computer, phone = (app.sessions[screen.named_sessions[name]] for name in ("imap", "second"))
        sent = [[line.data for line in model.lines if line.direction.value == "C"] for model in (computer, phone)]
        assert sent[0] == [b"a1 LOGIN bob builder\r\n", b"a2 SELECT INBOX\r\n",
                                  b"a3 STORE 1 +FLAGS (\\Flagged)\r\n"]
        assert sent[1] == [b"b1 LOGIN bob builder\r\n", b"b2 SELECT INBOX\r\n", b"b3 NOOP\r\n"]
        assert computer.state == phone.state == "selected"
