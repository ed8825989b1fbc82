"""The `close-session` action (a connection dropped without a goodbye) and the POP3
textbook maildrop the deletion lessons are played on."""

from __future__ import annotations

from pathlib import Path

from mailsim.events import Note, Reply
from mailsim.lesson.autoplay import autoplay
from mailsim.lesson.loader import check_lesson, lesson_files, load_lesson
from mailsim.lesson.model import CloseSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.store.world import build_store

LESSONS = {path.stem: path for path in lesson_files()}

DROP = '''\
format_version = 1
id = "drop"
protocols = ["pop3"]
level = "beginner"
minutes = 5

[title]
es = "Corte"
en = "Drop"

[summary]
es = "Resumen"
en = "Summary"

[[steps]]
id = "log-in"
demo = ["USER bob", "PASS builder", "DELE 1"]

[steps.title]
es = "Entrar y marcar"
en = "Log in and mark"

[steps.instructions]
es = "Entra y marca."
en = "Log in and mark."

[steps.expect]
kind = "deletion-marked"

[[steps.actions]]
do = "open-session"
protocol = "pop3"

[[steps]]
id = "drop"

[steps.title]
es = "Se corta"
en = "It drops"

[steps.instructions]
es = "Mira."
en = "Watch."

[steps.expect]
kind = "deletion-marked"
marked = false

[[steps.actions]]
do = "close-session"
name = "SESSION"
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "drop.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_close_session_drops_the_connection_and_nothing_is_removed(tmp_path: Path) -> None:
    lesson = load_lesson(write(tmp_path, DROP.replace("SESSION", "pop3")))
    assert lesson.steps[1].actions == (CloseSession("pop3"),)
    played = autoplay(lesson, "en")
    assert played.runner.finished
    assert played.sessions["pop3"].closed
    notes = [e.key for e in played.transcript if isinstance(e, Note)]
    assert "pop3.nothing-removed" in notes
    assert not any(isinstance(e, Reply) and e.command == "QUIT" for e in played.transcript)
    assert len(played.store.mailbox("bob", "INBOX").messages) == 4


def test_close_session_must_name_a_session_opened_earlier(tmp_path: Path) -> None:
    path = write(tmp_path, DROP.replace("SESSION", "second"))
    problems = check_lesson(path)
    assert len(problems) == 1
    line = path.read_text(encoding="utf-8").splitlines()[problems[0].line - 1]
    assert line.startswith("name =")
    assert "no session named 'second'" in problems[0].message and "pop3" in problems[0].message


def test_close_session_needs_a_name(tmp_path: Path) -> None:
    problems = check_lesson(write(tmp_path, DROP.replace('name = "SESSION"\n', "")))
    assert [p.message for p in problems] == ["step 'drop', action 1: 'close-session' needs 'name', the session to drop"]


def test_the_textbook_maildrop_lists_the_textbook_sizes() -> None:
    world = load_lesson(LESSONS["09-pop3-reading"]).world
    session = Pop3Session(build_store(world), session_id="t", peer="test")
    session.start()
    session.receive_data(b"USER alumno\r\nPASS secreto\r\nLIST\r\n")
    lines = session.data_to_send().decode().split("\r\n")
    start = lines.index("+OK 4 messages (934909 octets)")
    assert lines[start + 1 : start + 6] == ["1 23941", "2 2411", "3 16523", "4 892034", "."]


def test_deleting_lesson_keeps_the_message_after_the_drop_and_removes_it_after_quit() -> None:
    played = autoplay(load_lesson(LESSONS["10-pop3-deleting"]), "es")
    sizes = [len(m.raw) for m in played.store.mailbox("alumno", "INBOX").messages]
    assert sizes == [23941, 2411, 16523]
    logins = [e.text for e in played.transcript if isinstance(e, Reply) and e.key == "logged-in"]
    assert logins == ["alumno's maildrop has 4 messages (934909 octets)"] * 2
