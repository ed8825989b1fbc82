"""Assignment and level files: the shipped ones are valid, bad ones are refused with
`file:line` problems, the way lesson files are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailsim.events import Protocol
from mailsim.testbench.assignment import (
    AssignmentError,
    CommandRequired,
    DeletedRequired,
    MessageRequired,
    check_assignment,
    level_names,
    load_assignment,
    load_level,
)
from mailsim.testbench.commands import LEVELS
from testbench.helpers import ASSIGNMENTS


def test_every_shipped_assignment_is_valid() -> None:
    files = sorted(ASSIGNMENTS.glob("*.toml"))
    assert {f.stem for f in files} >= {"smtp-client-informe", "pop3-client-delete", "smtp-server-minimal"}
    for path in files:
        assert check_assignment(path) == [], path


def test_the_smtp_client_assignment_reads_as_written() -> None:
    assignment = load_assignment(ASSIGNMENTS / "smtp-client-informe.toml")
    assert (assignment.kind, assignment.protocol) == ("client", Protocol.SMTP)
    assert assignment.requirements == (
        CommandRequired("EHLO", assignment.requirements[0].explain, assignment.requirements[0].line),
        MessageRequired(
            to="bob", count=1, subject="", sender="alice@mailsim.test", attachment="informe.pdf",
            line=assignment.requirements[1].line,
        ),
    )
    assert "informe.pdf" in assignment.summary.es and "informe.pdf" in assignment.summary.en
    deleted = load_assignment(ASSIGNMENTS / "pop3-client-delete.toml").requirements[1]
    assert isinstance(deleted, DeletedRequired) and deleted.messages == (2,)


def test_levels_load_and_the_cli_knows_them_all() -> None:
    assert tuple(sorted(LEVELS)) == tuple(level_names())
    rfc5321 = load_level("rfc5321")
    ids = [c.id for c in rfc5321.checks]
    assert ids[: len(load_level("rfc821").checks)] == [c.id for c in load_level("rfc821").checks]  # included first
    assert {"ehlo", "pipelining", "vrfy"} <= set(ids)
    for name in level_names():
        level = load_level(name)
        assert all(c.rfc.startswith("RFC") and c.title.es and c.why.en for c in level.checks), name


BAD = """\
format_version = 1
id = "Bad Id"
kind = "client"
protocol = "smtp"
title = { en = "Only English" }
summary = { en = "s", es = "s" }
colour = "blue"

[[requirements]]
kind = "message"
to = "bob"
subject = "("

[[requirements]]
kind = "deleted"
account = "alice"
messages = [0]

[[requirements]]
kind = "deleted"
account = "alice"
messages = [99]

[[requirements]]
kind = "message"
to = "zoe"

[[requirements]]
kind = "teleport"
"""


def test_a_bad_client_assignment_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD, encoding="utf-8")
    problems = [(p.line, p.message) for p in check_assignment(path)]
    assert (2, "id 'Bad Id': use lower-case letters, digits and '-'") in problems
    assert (5, "the file: missing language 'es'") in problems
    assert any(line == 7 and "unknown key 'colour'" in message for line, message in problems)
    assert any(line == 12 and "'subject' must be a regular expression" in message for line, message in problems)
    assert any(line == 17 and "'messages' must be a list of message numbers" in message for line, message in problems)
    assert (19, "'messages': alice's INBOX starts with 7 messages, not 99") in problems
    assert (24, "'to': no account 'zoe' in the world (use an account name or an address)") in problems
    assert any(line == 29 and "'kind' must be one of" in message for line, message in problems)
    with pytest.raises(AssignmentError) as error:
        load_assignment(path)
    assert str(error.value).startswith(f"{path}:")


BAD_SERVER = """\
format_version = 1
id = "srv"
kind = "server"
protocol = "pop3"
title = { en = "t", es = "t" }
summary = { en = "s", es = "s" }
level = "rfc821"
skip = ["nope"]

[[checks]]
id = "x"
title = { en = "t", es = "t" }
why = { en = "w", es = "w" }
rfc = "RFC 1939 §3"
steps = [{ send = "NOOP", expect = "maybe" }]
"""


def test_a_bad_server_assignment(tmp_path: Path) -> None:
    path = tmp_path / "srv.toml"
    path.write_text(BAD_SERVER, encoding="utf-8")
    problems = [(p.line, p.message) for p in check_assignment(path)]
    assert (7, "level 'rfc821' is for smtp, not pop3") in problems
    assert (8, "level 'rfc821' has no check 'nope'") in problems
    assert any(line == 15 and "'expect' must be a status pattern" in message for line, message in problems)


def test_deleted_takes_numbers_or_a_date(tmp_path: Path) -> None:
    path = tmp_path / "both.toml"
    head = BAD_SERVER.split("level =")[0].replace('kind = "server"', 'kind = "client"')
    path.write_text(head + '\n[[requirements]]\nkind = "deleted"\naccount = "alice"\nmessages = [1]\nbefore = 2026-09-05\n'
                    '\n[[requirements]]\nkind = "deleted"\naccount = "alice"\nbefore = "yesterday"\n', encoding="utf-8")
    problems = [(p.line, p.message) for p in check_assignment(path)]
    assert (8, "requirement 1: give 'messages' (numbers) or 'before' (a date), one of them") in problems
    assert (17, "requirement 2: 'before' must be a TOML date or date-time (2026-09-05)") in problems


def test_mailsim_check_validate(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    good = ASSIGNMENTS / "smtp-client-informe.toml"
    ok = subprocess.run([sys.executable, "-m", "mailsim", "check", "validate", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0 and "valid (client, smtp)" in ok.stdout
    wrong = subprocess.run([sys.executable, "-m", "mailsim", "check", "validate", str(good), str(bad)], capture_output=True, text=True)
    assert wrong.returncode == 1
    assert f"{bad}:2: id 'Bad Id'" in wrong.stdout
