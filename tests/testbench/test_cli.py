"""`mailsim check` as graders run it: a subprocess, an exit status, a report file."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from testbench.helpers import ASSIGNMENTS, program, toy_server

MAILSIM = [sys.executable, "-m", "mailsim"]


def test_check_client_writes_junit_and_fails_a_client_that_forgets_the_dot(tmp_path: Path) -> None:
    out = tmp_path / "report.xml"
    checker = subprocess.Popen(
        [*MAILSIM, "check", "client", "smtp", "--port", "0", "--timeout", "0.5", "--wait", "20",
         "--lang", "en", "--format", "junit", "--output", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        announced = checker.stderr.readline()  # type: ignore[union-attr]
        port = re.search(r"127\.0\.0\.1:(\d+)", announced)
        assert port, announced
        subprocess.run(program("smtp_client_no_dot.py", "127.0.0.1", port.group(1)), capture_output=True, timeout=20)
        assert checker.wait(timeout=20) == 1
    finally:
        checker.kill()
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) >= 1
    failing = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert "smtp.data-end" in failing


def test_check_client_passes_a_correct_client_with_the_assignment(tmp_path: Path) -> None:
    recording = tmp_path / "run.jsonl"
    checker = subprocess.Popen(
        [*MAILSIM, "check", "client", "smtp", "--port", "0", "--timeout", "2", "--wait", "20", "--format", "json",
         "--assignment", str(ASSIGNMENTS / "smtp-client-informe.toml"), "--record", str(recording)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        port = re.search(r"127\.0\.0\.1:(\d+)", checker.stderr.readline())  # type: ignore[union-attr]
        assert port
        subprocess.run(program("smtp_client_good.py", "127.0.0.1", port.group(1)), capture_output=True, timeout=20)
        stdout, _ = checker.communicate(timeout=20)
    finally:
        checker.kill()
    assert checker.returncode == 0
    data = json.loads(stdout)
    assert data["passed"] and data["level"] == "smtp-client-informe"
    assert "assignment.message" in {v["check"] for v in data["verdicts"]}
    # The conversation was recorded, and replays against today's server without a difference.
    replay = subprocess.run([*MAILSIM, "replay", "--check", str(recording)], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "EHLO student.example" in recording.read_text(encoding="utf-8")


def test_check_server_exit_status_follows_the_verdicts() -> None:
    with toy_server("smtp_server_yes.py") as port:
        bad = subprocess.run([*MAILSIM, "check", "server", f"smtp://127.0.0.1:{port}", "--format", "json", "--timeout", "2"],
                             capture_output=True, text=True, timeout=60)
    with toy_server("smtp_server_good.py") as port:
        good = subprocess.run([*MAILSIM, "check", "server", f"smtp://127.0.0.1:{port}", "--lang", "es", "--timeout", "2"],
                              capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["counts"]["fail"] == 9
    assert good.returncode == 0, good.stdout
    assert "Todo lo comprobado es correcto." in good.stdout


def test_usage_errors_exit_2_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    for args, message in (
        (["server", "http://example.com"], "start with smtp://, pop3:// or imap://"),
        (["server", "pop3://127.0.0.1:1", "--level", "rfc821"], "level rfc821 is not for pop3"),
        (["client", "pop3", "--assignment", str(ASSIGNMENTS / "smtp-client-informe.toml")], "is a client assignment for smtp"),
    ):
        run = subprocess.run([*MAILSIM, "check", *args], capture_output=True, text=True, timeout=30)
        assert run.returncode == 2, (args, run.stderr)
        assert message in run.stderr and "Traceback" not in run.stderr


def test_check_client_can_start_the_students_program_itself(tmp_path: Path) -> None:
    command = " ".join(shlex.quote(part) for part in program("smtp_client_ignores_550.py")) + " {host} {port}"
    run = subprocess.run(
        [*MAILSIM, "check", "client", "smtp", "--port", "0", "--timeout", "2", "--wait", "20", "--format", "json",
         "--run", command],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 1
    data = json.loads(run.stdout)  # the program's own prints went to standard error, not into the report
    assert {v["check"] for v in data["verdicts"] if v["status"] == "fail"} >= {"smtp.ignored"}
    assert data["notes"][-1].endswith(": exit status 0")
    # A program that ends without connecting does not keep the testbench waiting.
    quitter = subprocess.run(
        [*MAILSIM, "check", "client", "pop3", "--port", "0", "--wait", "60", "--format", "json",
         "--run", shlex.join([sys.executable, "-c", "raise SystemExit(3)"])],
        capture_output=True, text=True, timeout=30,
    )
    assert quitter.returncode == 1
    assert json.loads(quitter.stdout)["verdicts"][0]["detail"]["en"] == (
        "0 conversations arrived before the program ended (exit status 3; expected: 1)."
    )
    missing = subprocess.run([*MAILSIM, "check", "client", "smtp", "--port", "0", "--run", "no-such-program {port}"],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "cannot run" in missing.stderr and "Traceback" not in missing.stderr
