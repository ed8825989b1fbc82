"""Item 5: passwords and AUTH responses never reach a log, a shared screen, a report or
a recording; recordings, reports and stores are private files; replays still work."""

from __future__ import annotations

import base64
import imaplib
import io
import json
import poplib
import signal
import smtplib
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from net_helpers import Client, serving
from running_servers import serve_process

from mailsim.events import ClientLine, Connected, Protocol
from mailsim.lesson.report import _sessions
from mailsim.transcript.replay import Replay
from mailsim.transcript.secrets import SecretStandIns
from mailsim.transcript.wirelog import WireLog
from mailsim.ui.model import SessionModel

pytestmark = pytest.mark.network

SECRETS = ("wonderland", "builder", "pa ss\"word", "guess-one", "literal-secret")


def drive_every_login(ports: dict[Protocol, int]) -> None:
    """Every way a password travels: POP3 USER/PASS, AUTH PLAIN; IMAP LOGIN with an
    atom, a quoted string and a literal, AUTHENTICATE PLAIN; SMTP AUTH LOGIN."""
    pop = poplib.POP3("127.0.0.1", ports[Protocol.POP3], timeout=10)
    pop.user("alice")
    pop.pass_("wonderland")
    pop.quit()
    pop = Client(ports[Protocol.POP3])
    pop.until(b">\r\n")
    pop.send(b"AUTH PLAIN " + base64.b64encode(b"\0bob\0guess-one") + b"\r\n")
    pop.until(b"-ERR")
    pop.close()
    imap = imaplib.IMAP4("127.0.0.1", ports[Protocol.IMAP])
    imap.login("dana", 'pa ss"word')  # imaplib sends it quoted, with the quote escaped
    imap.logout()
    imap = imaplib.IMAP4("127.0.0.1", ports[Protocol.IMAP])
    imap.authenticate("PLAIN", lambda _: b"\0bob\0builder")
    imap.logout()
    raw = Client(ports[Protocol.IMAP])
    raw.until(b"ready\r\n")
    raw.send(b"a LOGIN eve {14}\r\n")
    raw.until(b"+ ")
    raw.send(b"literal-secret\r\nb LOGOUT\r\n")
    raw.to_close()
    with smtplib.SMTP("127.0.0.1", ports[Protocol.SMTP], timeout=10) as smtp:
        smtp.ehlo("student.example")
        smtp.user, smtp.password = "alice", "wonderland"
        smtp.auth("LOGIN", smtp.auth_login)


@pytest.fixture
def class_store(store):
    store.add_account("dana", 'pa ss"word')
    store.add_account("eve", "literal-secret")
    return store


def test_the_wire_log_masks_every_secret(class_store) -> None:
    log = io.StringIO()
    with serving(class_store) as running:
        running.bus.subscribe(WireLog(log))
        drive_every_login(running.ports)
    text = log.getvalue()
    for secret in SECRETS:
        assert secret not in text
    for encoded in (base64.b64encode(b"wonderland"), base64.b64encode(b"\0bob\0builder")):
        assert encoded.decode() not in text
    assert "C: PASS ********" in text
    assert "C: AUTH PLAIN ********" in text
    assert 'LOGIN dana "********"' in text
    assert "C: ********" in text  # the IMAP literal, and SASL responses on lines of their own
    assert "C: AUTH LOGIN " + base64.b64encode(b"alice").decode() in text  # the user name is no secret


def test_shared_tabs_and_reports_mask_but_the_students_console_does_not(class_store) -> None:
    with serving(class_store) as running:
        drive_every_login(running.ports)
        events = list(running.events)
    pass_line = next(e for e in events if isinstance(e, ClientLine) and e.data.startswith(b"PASS "))
    connected = next(e for e in events if isinstance(e, Connected) and e.session_id == pass_line.session_id)
    shared = SessionModel(pass_line.session_id, Protocol.POP3, None, read_only=True)
    own = SessionModel(pass_line.session_id, Protocol.POP3, None)
    for model in (shared, own):
        model.apply(connected)
        model.apply(pass_line)
    assert [line.data for line in shared.lines if line.data.startswith(b"PASS")] == [b"PASS ********\r\n"]
    assert [line.data for line in own.lines if line.data.startswith(b"PASS")] == [b"PASS wonderland\r\n"]
    report = "\n".join(line for log in _sessions(events, "en") for line in log.lines)
    assert "C: PASS ********" in report
    for secret in SECRETS:
        assert secret not in report


def test_a_class_recording_holds_no_roster_password_and_still_replays(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text('dana,pa ss"word\neve,literal-secret\n', encoding="utf-8")
    recording = tmp_path / "records" / "class.jsonl"
    store_dir = tmp_path / "mail"
    server, ports = serve_process("--accounts", str(roster), "--record", str(recording), "--store", str(store_dir))
    try:
        drive_every_login({Protocol.SMTP: ports["SMTP"], Protocol.POP3: ports["POP3"], Protocol.IMAP: ports["IMAP"]})
        time.sleep(0.05)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert stat.S_IMODE(recording.stat().st_mode) == 0o600
    assert stat.S_IMODE(recording.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store_dir.stat().st_mode) == 0o700
    text = recording.read_text(encoding="utf-8")
    for secret in ('pa ss\\"word', "literal-secret", "guess-one"):
        assert secret not in text
    for secret in (b"\0bob\0guess-one",):
        assert base64.b64encode(secret).decode() not in text
    header = json.loads(text.splitlines()[0])
    passwords = {a["name"]: a["password"] for a in header["start"]["store"]["accounts"]}
    assert passwords["alice"] == "wonderland"  # the default world's, published anyway
    assert passwords["dana"] != 'pa ss"word' and passwords["eve"] != "literal-secret"
    # The replay logs in where the class did and fails where it failed.
    replay = Replay.load(recording)
    assert replay.warnings == [] and replay.differences == []
    check = subprocess.run([sys.executable, "-m", "mailsim", "replay", "--check", str(recording)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    export = tmp_path / "report.md"
    subprocess.run([sys.executable, "-m", "mailsim", "replay", "--export", "md", "-o", str(export), str(recording)],
                   check=True, timeout=60)
    assert stat.S_IMODE(export.stat().st_mode) == 0o600


def test_an_apop_digest_is_masked_in_the_log_but_kept_for_replay(store) -> None:
    log = io.StringIO()
    with serving(store) as running:
        running.bus.subscribe(WireLog(log))
        mailbox = poplib.POP3("127.0.0.1", running.ports[Protocol.POP3], timeout=10)
        mailbox.apop("alice", "wonderland")
        mailbox.quit()
        line = next(e for e in running.events if isinstance(e, ClientLine) and e.data.startswith(b"APOP"))
    assert "C: APOP alice ********" in log.getvalue()
    digest = line.data.split()[2]
    assert len(digest) == 32 and line.data[line.secret[0]:line.secret[1]] == digest
    # A recording keeps it (it holds no password), so the replay's APOP matches.
    assert SecretStandIns(store).event(line).data == line.data


def test_serve_help_shows_the_defaults_the_server_uses() -> None:
    from mailsim.cli import build_parser
    from mailsim.protocol.throttle import LoginPolicy
    from mailsim.transport.limits import DEFAULT_MAX_CONNECTIONS, ServerLimits

    serve = build_parser().parse_args(["serve"])
    limits, login = ServerLimits(), LoginPolicy()
    assert (serve.max_connections, serve.max_per_protocol, serve.max_per_address) == (
        DEFAULT_MAX_CONNECTIONS, limits.max_per_protocol, limits.max_per_address)
    assert (serve.line_deadline, serve.lockout_after, serve.lockout) == (
        limits.line_deadline, login.lockout_after, login.lockout)
    help_text = subprocess.run([sys.executable, "-m", "mailsim", "serve", "--help"],
                               capture_output=True, text=True, check=True, timeout=60).stdout
    assert "(default 20)" in help_text and "(default 500)" in help_text and "(default 8192)" in help_text


@pytest.mark.parametrize(
    ("command", "secret", "form"),
    [
        (b"a LOGIN alice wonderland", b"wonderland", "text"),
        (b'a LOGIN "alice" "won\\"der"', b'won\\"der', "quoted"),
        (b"a LOGIN {5}\r\nalice {10}\r\nwonder", b"wonder", "text"),  # a literal, still arriving
        (b"a login alice {10}", None, ""),  # the mark is no secret; its octets will be
        (b"a AUTHENTICATE PLAIN AGFsaWNlAHc=", b"AGFsaWNlAHc=", "sasl-plain"),
        (b"a AUTHENTICATE LOGIN YWxpY2U=", None, ""),  # LOGIN's first response: the user name
        (b"a SELECT wonderland", None, ""),
    ],
)
def test_where_an_imap_command_holds_a_secret(command: bytes, secret: bytes | None, form: str) -> None:
    from mailsim.protocol.imap.parser import secret_span
    from mailsim.protocol.sasl import initial_response_form

    span = secret_span(command, initial_response_form)
    if secret is None:
        assert span is None
    else:
        assert span is not None and command[span[0]:span[1]] == secret and span[2] == form
