"""`mailsim serve --record FILE` writes a recording that `mailsim replay --check`
finds clean — including a client still connected when the server is stopped."""

from __future__ import annotations

import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from running_servers import serve_process

from mailsim.transcript.replay import Replay
from mailsim.transcript.script import ActionKind

pytestmark = pytest.mark.network


def test_serve_record_then_replay_check(tmp_path: Path) -> None:
    recording = tmp_path / "lab.jsonl"
    server, ports = serve_process("--record", str(recording))
    try:
        with smtplib.SMTP("127.0.0.1", ports["SMTP"]) as client:
            client.ehlo("student.example")
            client.sendmail("alice@mailsim.test", ["bob@mailsim.test", "ghost@mailsim.test"],
                            b"Subject: lab\r\n\r\nhello\r\n")
        lingering = socket.create_connection(("127.0.0.1", ports["SMTP"]))
        assert lingering.recv(1024).startswith(b"220 ")
        lingering.sendall(b"NOOP\r\n")
        assert lingering.recv(1024).startswith(b"250 ")
        time.sleep(0.05)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
        assert lingering.recv(1024).startswith(b"421 ")
        lingering.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    replay = Replay.load(recording)
    assert replay.warnings == [] and replay.differences == []
    assert replay.steps[-1].actions == (ActionKind.SHUTDOWN,)
    assert replay.steps[-1].actual[0][1].startswith(b"421 ")
    check = subprocess.run([sys.executable, "-m", "mailsim", "replay", "--check", str(recording)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
