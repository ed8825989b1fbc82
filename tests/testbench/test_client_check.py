"""`mailsim check client` judges example student clients, run as real programs over
real sockets against a real mailsim server."""

from __future__ import annotations

import pytest

from mailsim.events import Protocol
from mailsim.testbench.assignment import load_assignment
from mailsim.testbench.verdict import Status
from testbench.helpers import ASSIGNMENTS, check_client_program, failed, status, verdicts

SMTP_ASSIGNMENT = ASSIGNMENTS / "smtp-client-informe.toml"
POP3_ASSIGNMENT = ASSIGNMENTS / "pop3-client-delete.toml"


def test_a_correct_smtp_client_passes_every_check_and_the_assignment() -> None:
    report = check_client_program(Protocol.SMTP, "smtp_client_good.py", load_assignment(SMTP_ASSIGNMENT))
    assert failed(report) == set()
    assert report.passed
    checks = {v.check for v in report.verdicts}
    assert {"smtp.opening", "smtp.ignored", "smtp.data-end", "smtp.closing", "smtp.line-ends"} <= checks
    assert status(report, "assignment.message") is Status.PASS
    assert "informe" in verdicts(report, "assignment.message")[0].detail.en.lower()
    assert status(report, "assignment.command") is Status.PASS
    assert status(report, "smtp.message-format") is Status.PASS
    (transcript,) = report.transcripts
    assert transcript[0].startswith("S: 220 ") and transcript[1] == "C: EHLO student.example"
    assert transcript[-1] == "S: 221 2.0.0 Bye"


@pytest.mark.parametrize(
    ("protocol", "library", "assignment"),
    [
        (Protocol.SMTP, "smtplib", SMTP_ASSIGNMENT),
        (Protocol.SMTP, "aiosmtplib", SMTP_ASSIGNMENT),
        (Protocol.POP3, "poplib", POP3_ASSIGNMENT),
    ],
)
def test_real_client_libraries_pass(protocol: Protocol, library: str, assignment) -> None:
    report = check_client_program(protocol, "library_clients.py", load_assignment(assignment), library)
    assert {v.check: v.detail.en for v in report.verdicts if v.status is not Status.PASS} == {}
    assert len(report.verdicts) >= 10


def test_a_client_that_forgets_the_dot_is_told_about_crlf_dot_crlf() -> None:
    report = check_client_program(Protocol.SMTP, "smtp_client_no_dot.py", load_assignment(SMTP_ASSIGNMENT))
    assert not report.passed
    (data_end,) = verdicts(report, "smtp.data-end")
    assert data_end.status is Status.FAIL
    assert "§4.1.1.4" in data_end.rfc
    assert "\\r\\n.\\r\\n" in data_end.why.en and "\\r\\n.\\r\\n" in data_end.why.es
    assert "C: Hola Bob." in data_end.exchange
    assert any(line.startswith("S: 421") for line in data_end.exchange)  # the server gave up
    # One cause, one failure about hanging: the generic "left waiting" verdict is not added.
    assert verdicts(report, "smtp.hanging") == []
    assert {"smtp.goal", "smtp.closing", "assignment.message", "assignment.command"} <= failed(report)
    # It said HELO; the assignment asks for EHLO.
    assert verdicts(report, "assignment.command")[0].detail.en == "The client never got EHLO accepted."


def test_a_client_that_ignores_550_and_sends_data_is_caught() -> None:
    report = check_client_program(Protocol.SMTP, "smtp_client_ignores_550.py")
    (ignored,) = verdicts(report, "smtp.ignored")
    assert ignored.status is Status.FAIL
    assert "DATA" in ignored.detail.en and "RCPT" in ignored.detail.en and "550" in ignored.detail.en
    assert ignored.exchange[:3] == (
        "C: RCPT TO:<nobody@mailsim.test>",
        "S: 550 5.1.1 <nobody@mailsim.test>: no such user here",
        "C: DATA",
    )
    # The text it sent afterwards was read as commands, and nothing was delivered.
    assert status(report, "smtp.syntax") is Status.FAIL
    assert status(report, "smtp.goal") is Status.FAIL
    # The 554 to DATA is the consequence already explained, not a second "order" failure.
    assert status(report, "smtp.order") is Status.PASS
    assert status(report, "smtp.closing") is Status.PASS


def test_bare_lf_line_ends_fail_with_the_first_line_shown() -> None:
    report = check_client_program(Protocol.SMTP, "smtp_client_good.py", None, "--lf")
    (line_ends,) = verdicts(report, "smtp.line-ends")
    assert line_ends.status is Status.FAIL
    assert line_ends.detail.en.endswith("first: «EHLO student.example\\n».")
    assert line_ends.exchange == ("C: EHLO student.example␊",)


def test_a_pop3_client_that_deletes_only_message_2_meets_the_assignment() -> None:
    report = check_client_program(Protocol.POP3, "pop3_client_good.py", load_assignment(POP3_ASSIGNMENT))
    assert failed(report) == set()
    assert status(report, "assignment.deleted") is Status.PASS
    assert verdicts(report, "assignment.deleted")[0].detail.en.startswith("Removed: 2;")


def test_a_pop3_client_that_goes_on_after_a_wrong_password() -> None:
    report = check_client_program(Protocol.POP3, "pop3_client_wrong_password.py", load_assignment(POP3_ASSIGNMENT))
    (ignored,) = verdicts(report, "pop3.ignored")
    assert ignored.status is Status.FAIL
    assert "STAT" in ignored.detail.en and "PASS" in ignored.detail.en
    assert "C: PASS ••••••••" in ignored.exchange  # the password never reaches a report
    assert not any("alice123" in line for v in report.verdicts for line in v.exchange)
    assert {"pop3.goal", "pop3.closing", "assignment.deleted", "assignment.command"} <= failed(report)
    assert "ninguno" in verdicts(report, "assignment.deleted")[0].detail.es


def test_no_client_at_all_is_a_clear_failure() -> None:
    import asyncio

    from mailsim.store.world import build_store
    from mailsim.testbench.client import ClientCheck, run_client_check

    report = asyncio.run(run_client_check(ClientCheck(Protocol.IMAP, port=0, wait=0.2, idle_timeout=0.2), build_store()))
    assert [v.check for v in report.verdicts] == ["imap.connections"]
    assert report.verdicts[0].status is Status.FAIL
    assert report.verdicts[0].detail.en.startswith("0 conversations arrived within")
    assert report.verdicts[0].detail.es.startswith("Llegaron 0 conversaciones en")


def test_imaplib_as_a_student_client_passes() -> None:
    report = check_client_program(Protocol.IMAP, "imap_client_good.py")
    assert failed(report) == set()
    assert status(report, "imap.closing") is Status.PASS
    login = verdicts(report, "imap.goal")[0].exchange[0]
    assert login.startswith("C: ") and login.endswith(" LOGIN alice ••••••••")


def test_several_conversations_are_each_judged() -> None:
    import asyncio

    from mailsim.store.world import build_store
    from mailsim.testbench.client import ClientCheck, run_client_check
    from testbench.helpers import program

    async def two_clients():
        listening = asyncio.get_running_loop().create_future()
        check = ClientCheck(Protocol.SMTP, port=0, connections=2, wait=20, idle_timeout=0.5)
        task = asyncio.create_task(run_client_check(check, build_store(), on_listening=lambda h, p: listening.set_result(p)))
        port = str(await listening)
        for name in ("smtp_client_good.py", "smtp_client_ignores_550.py"):
            process = await asyncio.create_subprocess_exec(*program(name, "127.0.0.1", port), stdout=asyncio.subprocess.DEVNULL)
            await process.wait()
        return await task

    report = asyncio.run(two_clients())
    ignored = {v.conversation: v.status for v in report.verdicts if v.check == "smtp.ignored"}
    assert ignored == {1: Status.PASS, 2: Status.FAIL}
    assert status(report, "smtp.connections") is Status.PASS


WORLD_ASSIGNMENT = """\
format_version = 1
id = "own-world"
kind = "client"
protocol = "pop3"
title = { en = "Own world", es = "Mundo propio" }
summary = { en = "Three short messages.", es = "Tres mensajes cortos." }

[world]
[[world.accounts]]
name = "alice"
password = "wonderland"

[[world.messages]]
account = "alice"
raw = "Subject: one\\n\\nfirst\\n"

[[world.messages]]
account = "alice"
raw = "Subject: two\\n\\nsecond\\n"

[[world.messages]]
account = "alice"
raw = "Subject: three\\n\\nthird\\n"

[[requirements]]
kind = "deleted"
account = "alice"
messages = [2]
"""


def test_an_assignment_brings_its_own_world(tmp_path) -> None:
    path = tmp_path / "world.toml"
    path.write_text(WORLD_ASSIGNMENT, encoding="utf-8")
    assignment = load_assignment(path)
    assert assignment.world is not None and len(assignment.world.messages) == 3
    report = check_client_program(Protocol.POP3, "pop3_client_good.py", assignment)
    assert failed(report) == set()
    assert verdicts(report, "assignment.deleted")[0].detail.en == "Removed: 2; every other message is still there."
    path.write_text(WORLD_ASSIGNMENT.replace("messages = [2]", "messages = [4]"), encoding="utf-8")
    from mailsim.testbench.assignment import check_assignment

    assert [p.message for p in check_assignment(path)] == ["'messages': alice's INBOX starts with 3 messages, not 4"]


def test_deleting_the_messages_older_than_a_date() -> None:
    assignment = load_assignment(ASSIGNMENTS / "pop3-client-cleanup.toml")
    good = check_client_program(Protocol.POP3, "pop3_client_cleanup.py", assignment)
    assert failed(good) == set()
    (deleted,) = verdicts(good, "assignment.deleted")
    assert deleted.title.en == "Deletes exactly alice's messages dated before 2026-09-05"
    assert deleted.detail.en == "Removed: 1, 2, 3; every other message is still there."
    # A day off: message 3 (3 September) survives, and the verdict says which were wanted.
    late = check_client_program(Protocol.POP3, "pop3_client_cleanup.py", assignment, "2026-09-03")
    assert verdicts(late, "assignment.deleted")[0].detail.en == "Removed: 1, 2; the exercise asks for 1, 2, 3."
