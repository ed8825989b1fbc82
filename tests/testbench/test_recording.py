"""`mailsim check recording`: a recorded conversation is judged as a live one is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mailsim.events import Protocol
from mailsim.testbench.assignment import load_assignment
from mailsim.testbench.recording import judge_recording
from mailsim.testbench.verdict import Status
from testbench.helpers import ASSIGNMENTS, check_client_program, failed, status, verdicts

ROOT = Path(__file__).resolve().parents[2]


def test_a_recording_is_judged_like_the_live_run(tmp_path: Path) -> None:
    path = tmp_path / "no-dot.jsonl"
    assignment = load_assignment(ASSIGNMENTS / "smtp-client-informe.toml")
    live = check_client_program(Protocol.SMTP, "smtp_client_no_dot.py", assignment, record=str(path))
    later = judge_recording(path, assignment=assignment)
    assert failed(later) == failed(live) - {"smtp.connections"}
    (data_end,) = verdicts(later, "smtp.data-end")
    assert data_end.status is Status.FAIL
    # The silence is measured from the recording: about the 0.5 s the live server waited.
    seconds = float(data_end.detail.en.split("gave up after ")[1].split(" s")[0])
    assert 0.3 <= seconds <= 3
    assert data_end.exchange == verdicts(live, "smtp.data-end")[0].exchange


def test_an_rfc_style_transcript_is_judged_too() -> None:
    transcript = ROOT / "assets" / "transcripts" / "pop3-three-states.txt"
    report = judge_recording(transcript)
    assert report.subject == "POP3"
    assert status(report, "pop3.opening") is Status.PASS
    assert {v.check for v in report.verdicts} >= {"pop3.closing", "pop3.ignored", "pop3.line-ends"}


def test_the_cli_judges_a_recording_and_refuses_a_broken_one(tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    check_client_program(Protocol.SMTP, "smtp_client_good.py", record=str(path))
    good = subprocess.run([sys.executable, "-m", "mailsim", "check", "recording", str(path), "--lang", "en"],
                          capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "✔ PASS  Ends the message with a line holding only a dot" in good.stdout
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "mailsim", "check", "recording", str(broken)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and str(broken) in bad.stderr
