"""Reply classes say what each protocol says: POP3 -ERR and IMAP NO "failed" (neither
protocol has temporary and permanent failures), IMAP BYE "closing" (the normal end of
LOGOUT); lessons and recordings from before keep working."""

from __future__ import annotations

from pathlib import Path

from mailsim.events import Protocol, Reply, ReplyClass, event_from_record
from mailsim.lesson.autoplay import autoplay
from mailsim.lesson.loader import check_lesson, load_lesson
from mailsim.protocol.classify import classify_server_line
from mailsim.protocol.explain import Explainer
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.store.world import build_store


def replies(engine, lines: list[str]) -> list[Reply]:
    session = engine(build_store(), session_id="s", peer="test")
    session.start()
    for line in lines:
        session.receive_data(line.encode() + b"\r\n")
    session.data_to_send()
    return [event for event in session.events() if isinstance(event, Reply)]


def test_pop3_err_is_a_failure_not_a_permanent_one():
    err = replies(Pop3Session, ["USER alice", "PASS wrong"])[-1]
    assert err.code == "-ERR" and err.reply_class is ReplyClass.NEGATIVE
    assert classify_server_line(Protocol.POP3, b"-ERR no such message\r\n") is ReplyClass.NEGATIVE
    for lang, word in (("en", "not whether"), ("es", "no si")):
        text = Explainer(lang).reply_class(ReplyClass.NEGATIVE, Protocol.POP3)
        assert "-ERR" in text and "permanent" not in text.lower()
        assert word in Explainer(lang).reply_class(ReplyClass.NEGATIVE)


def test_imap_bye_of_logout_is_closing_not_a_temporary_failure():
    bye = [r for r in replies(ImapSession, ["a LOGIN alice wonderland", "b LOGOUT"]) if r.code == "BYE"]
    assert bye and bye[0].reply_class is ReplyClass.CLOSING
    assert classify_server_line(Protocol.IMAP, b"* BYE logging out\r\n") is ReplyClass.CLOSING
    assert classify_server_line(Protocol.IMAP, b"a NO [NONEXISTENT] no such mailbox\r\n") is ReplyClass.NEGATIVE
    assert "LOGOUT" in Explainer("en").reply_class(ReplyClass.CLOSING, Protocol.IMAP)


def test_recordings_made_before_read_back_with_todays_classes():
    old = {"kind": "reply", "session_id": "s", "timestamp": 1.0, "protocol": "pop3", "code": "-ERR",
           "reply_class": "permanent", "command": "PASS", "text": "nope"}
    assert event_from_record(old).reply_class is ReplyClass.NEGATIVE
    old_bye = dict(old, protocol="imap", code="BYE", reply_class="transient", command="LOGOUT")
    assert event_from_record(old_bye).reply_class is ReplyClass.CLOSING
    smtp = dict(old, protocol="smtp", code="550", reply_class="permanent")
    assert event_from_record(smtp).reply_class is ReplyClass.PERMANENT


OLD_LESSON = '''\
format_version = 1
id = "old-pop3"
protocols = ["pop3"]
level = "beginner"
minutes = 5
[title]
es = "POP3"
en = "POP3"
[summary]
es = "Resumen"
en = "Summary"
[[steps]]
id = "wrong-password"
demo = ["USER alice", "PASS wrong"]
[steps.title]
es = "Contraseña errónea"
en = "Wrong password"
[steps.instructions]
es = "Escribe una contraseña errónea."
en = "Type a wrong password."
[steps.expect]
kind = "reply"
class = "permanent"
answering = "PASS"
[[steps.actions]]
do = "open-session"
protocol = "pop3"
'''


def test_a_lesson_written_with_the_old_class_name_still_checks_and_plays(tmp_path: Path):
    path = tmp_path / "old.toml"
    path.write_text(OLD_LESSON, encoding="utf-8")
    assert check_lesson(path, known_ids=set()) == []
    assert autoplay(load_lesson(path, known_ids=set()), "en").runner.finished
