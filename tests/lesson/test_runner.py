"""The runner on synthetic event streams, progress save/resume/reset, and the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailsim.events import ClientLine, Protocol, Reply, ReplyClass, StateChanged
from mailsim.lesson.autoplay import autoplay
from mailsim.lesson.loader import lesson_files, load_lesson
from mailsim.lesson.messages import ActionRequested, HintShown, InspectorOpened, StepProgressed, StepStarted
from mailsim.lesson.model import (
    Choice,
    CommandSent,
    FlagChanged,
    Lesson,
    Level,
    MailboxCreated,
    MessageOpened,
    OpenSession,
    Question,
    QuestionKind,
    ReplyReceived,
    StateReached,
    Step,
    Text,
)
from mailsim.lesson.progress import ProgressStore
from mailsim.lesson.report import LabReport
from mailsim.lesson.runner import LessonRunner
from mailsim.store import changes
from mailsim.transcript.bus import Bus

SMTP = Protocol.SMTP
T = Text("x", "x")


def client(data: bytes, sid: str = "s1", protocol: Protocol = SMTP) -> ClientLine:
    return ClientLine(sid, 1.0, protocol, data)


def reply(code: str, command: str = "", key: str = "") -> Reply:
    return Reply("s1", 1.0, SMTP, code, ReplyClass.of_smtp(int(code)), command, "text", key=key)


def state(new: str, old: str = "") -> StateChanged:
    return StateChanged("s1", 1.0, SMTP, old, new, "")


def lesson_of(*steps: Step) -> Lesson:
    return Lesson("synthetic", Text("Sintética", "Synthetic"), T, (SMTP,), Level.BEGINNER, 1, steps)


def step(step_id: str, **kwargs) -> Step:
    return Step(step_id, Text(f"Paso {step_id}", f"Step {step_id}"), T, **kwargs)


def run(lesson: Lesson, **kwargs) -> tuple[LessonRunner, list]:
    heard: list = []
    runner = LessonRunner(lesson, listener=heard.append, clock=lambda: 1_790_000_000.0, **kwargs)
    runner.start()
    return runner, heard


def test_steps_tick_in_order_and_only_the_current_one_listens() -> None:
    lesson = lesson_of(
        step("ehlo", expect=CommandSent(SMTP, "EHLO")),
        step("mail", expect=ReplyReceived(SMTP, code="250", answering="MAIL")),
        step("state", expect=StateReached(SMTP, "rcpt")),
    )
    runner, heard = run(lesson)
    bus = Bus()
    runner.attach(bus)
    bus.publish(reply("250", "MAIL"))          # not yet: step 1 wants EHLO
    assert runner.index == 0
    bus.publish(client(b"EHLO x.example\r\n"))
    assert runner.index == 1
    bus.publish(state("rcpt"))                 # belongs to step 3: ignored now
    assert runner.index == 1
    bus.publish(reply("250", "RCPT"))          # wrong command answered
    assert runner.index == 1
    bus.publish(reply("250", "MAIL"))
    bus.publish(state("rcpt", "mail"))
    assert runner.finished
    kinds = [type(m).__name__ for m in heard]
    assert kinds == ["StepStarted", "StepCompleted", "StepStarted", "StepCompleted", "StepStarted", "StepCompleted", "LessonFinished"]
    runner.detach()
    assert bus._subscribers == []


def test_command_matching_ignores_data_lines_and_checks_arguments() -> None:
    lesson = lesson_of(step("mail", expect=CommandSent(SMTP, "MAIL", re.compile(r"FROM:\s*<alice@", re.I))))
    runner, _ = run(lesson)
    runner.feed(state("data", "rcpt"))
    runner.feed(client(b"MAIL FROM:<alice@mailsim.test>\r\n"))   # a line of message text
    assert not runner.finished
    runner.feed(state("greeted", "data"))
    runner.feed(client(b"MAIL FROM:<bob@mailsim.test>\r\n"))      # argument does not match
    assert not runner.finished
    runner.feed(client(b"mail from:<ALICE@mailsim.test>\r\n"))
    assert runner.finished


def test_imap_tags_and_uid_commands() -> None:
    lesson = Lesson("i", T, T, (Protocol.IMAP,), Level.BEGINNER, 1, (
        step("fetch", expect=CommandSent(Protocol.IMAP, "UID FETCH")),
    ))
    runner, _ = run(lesson)
    runner.feed(client(b"a1 FETCH 1 FLAGS\r\n", protocol=Protocol.IMAP))
    assert not runner.finished
    runner.feed(client(b"a2 uid fetch 1:* (FLAGS)\r\n", protocol=Protocol.IMAP))
    assert runner.finished


def test_times_counts_matches() -> None:
    runner, heard = run(lesson_of(step("two", expect=ReplyReceived(SMTP, key="obsolete"), times=2)))
    runner.feed(reply("502", "SOML", key="obsolete"))
    assert [m for m in heard if isinstance(m, StepProgressed)] == [StepProgressed(0, 1, 2)]
    runner.feed(reply("502", "SAML", key="obsolete"))
    assert runner.finished


def test_store_changes_and_inspector_events() -> None:
    lesson = lesson_of(
        step("flag", expect=FlagChanged("\\Seen", account="alice")),
        step("box", expect=MailboxCreated("Proyectos")),
        step("open", expect=MessageOpened(part="2")),
    )
    runner, _ = run(lesson)
    runner.feed(changes.FlagsChanged("alice", "INBOX", 1, frozenset({"\\Flagged"})))
    assert runner.index == 0
    runner.feed(changes.FlagsChanged("alice", "INBOX", 1, frozenset({"\\Seen"})))
    runner.feed(changes.MailboxCreated("alice", "Otros"))
    assert runner.index == 1
    runner.feed(changes.MailboxCreated("alice", "proyectos"))
    runner.feed(InspectorOpened("alice", "INBOX", 3, part="1"))
    assert runner.index == 2
    runner.feed(InspectorOpened("alice", "INBOX", 3, part="2"))
    assert runner.finished


def test_hints_are_revealed_one_at_a_time() -> None:
    hints = (Text("uno", "one"), Text("dos", "two"))
    runner, heard = run(lesson_of(step("h", expect=CommandSent(SMTP, "QUIT"), hints=hints)))
    assert runner.next_hint() == hints[0]
    assert runner.next_hint() == hints[1]
    assert runner.next_hint() is None
    assert [m.number for m in heard if isinstance(m, HintShown)] == [1, 2]
    assert runner.progress.hints == {"h": 2}


def test_answers_are_checked_with_feedback() -> None:
    choice = Question(QuestionKind.CHOICE, T, (Choice(Text("a", "a")), Choice(Text("b", "b"), True), Choice(Text("c", "c"), feedback=Text("no, c", "no, c"))),
                      wrong=Text("mal", "wrong"), right=Text("bien", "right"))
    text = Question(QuestionKind.TEXT, T, answers={"es": ("intermedia",), "en": ("intermediate",)})
    runner, heard = run(lesson_of(step("q1", question=choice), step("q2", question=text)))
    assert runner.answer(0).feedback == Text("mal", "wrong")
    assert runner.answer(2).feedback == Text("no, c", "no, c")
    result = runner.answer(1, "en")
    assert result.correct and result.feedback == Text("bien", "right") and runner.index == 1
    assert not runner.answer("transitoria").correct
    assert runner.answer("  Intermediate. ", "es").correct      # case, spaces, full stop; either language
    assert runner.finished
    assert [a.correct for a in runner.progress.answers["q1"]] == [False, False, True]
    with pytest.raises(ValueError):
        runner.answer("x")


def test_reading_steps_advance_on_request_and_actions_are_handed_out() -> None:
    open_smtp = OpenSession(SMTP, "smtp")
    runner, heard = run(lesson_of(step("read", actions=(open_smtp,)), step("next", expect=CommandSent(SMTP, "QUIT"))))
    assert ActionRequested(0, open_smtp) in heard
    assert not runner.finished
    assert runner.advance() is True
    assert runner.advance() is False       # "next" waits for QUIT
    assert runner.index == 1


def test_progress_is_saved_resumed_and_reset(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path)
    lesson = lesson_of(
        step("read", actions=(OpenSession(SMTP, "smtp"),)),
        step("ehlo", expect=CommandSent(SMTP, "EHLO"), hints=(T,)),
        step("quit", expect=CommandSent(SMTP, "QUIT")),
    )
    runner, _ = run(lesson, progress=store)
    runner.advance()
    runner.next_hint()
    runner.feed(client(b"EHLO x\r\n"))
    saved = json.loads((tmp_path / "synthetic.json").read_text())
    assert saved["step_index"] == 2 and saved["hints"] == {"ehlo": 1} and len(saved["transcript"]) == 1

    again, heard = run(lesson, progress=store)
    assert again.index == 2 and again.is_done(lesson.steps[1])
    assert [type(m) for m in heard] == [ActionRequested, StepStarted]   # sessions reopened, then the step
    assert heard[-1].resumed and len(again.transcript) == 1
    again.feed(client(b"QUIT\r\n"))
    assert again.finished and store.load("synthetic").finished

    again.reset()
    assert not (tmp_path / "synthetic.json").exists() or store.load("synthetic").step_index == 0
    assert again.index == 0 and again.transcript == []


def test_damaged_progress_is_no_progress(tmp_path: Path) -> None:
    (tmp_path / "synthetic.json").write_text("{not json")
    runner, _ = run(lesson_of(step("read")), progress=ProgressStore(tmp_path))
    assert runner.index == 0


def test_default_progress_dir_is_the_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert ProgressStore().root == tmp_path / "mailsim" / "progress"


def test_lab_report_in_markdown_and_html() -> None:
    lesson = load_lesson(next(p for p in lesson_files() if p.stem.startswith("02")))
    played = autoplay(lesson, "es")
    played.runner.progress.answers["code-after-dot"][0].answer = "<250>"
    report = LabReport.build(lesson, played.runner.progress, played.transcript, lang="es", student="Ana Pérez")
    markdown = report.markdown()
    assert markdown.startswith("# Informe de laboratorio: Una primera sesión SMTP")
    assert "- **Estudiante:** Ana Pérez" in markdown
    assert f"**Pasos completados:** {len(lesson.steps)}/{len(lesson.steps)}" in markdown
    assert "1. [x] Conectarse y leer el saludo" in markdown
    assert "C: RCPT TO:<bob@mailsim.test>" in markdown and "S: 354 End data with <CR><LF>.<CR><LF>" in markdown
    html = report.html()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="es">' in html
    assert "“&lt;250&gt;”" in html and "C: RCPT TO:&lt;bob@mailsim.test&gt;" in html
    english = LabReport.build(lesson, played.runner.progress, played.transcript, lang="en").markdown()
    assert english.startswith("# Lab report: A first SMTP session")


def test_report_of_an_unfinished_lesson_marks_pending_steps() -> None:
    lesson = load_lesson(next(p for p in lesson_files() if p.stem.startswith("02")))
    runner, _ = run(lesson)
    report = LabReport.build(lesson, runner.progress, [], lang="en")
    assert report.completed == 0
    assert "2. [ ] Introduce yourself with EHLO" in report.markdown()
    assert "(no traffic)" in report.markdown()
