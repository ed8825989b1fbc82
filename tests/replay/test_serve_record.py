"""`mailsim serve --record FILE` writes a recording that `mailsim replay --check`
finds clean — including a client still connected when the server is stopped."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailsim.transcript.replay import Replay
from mailsim.transcript.script import ActionKind

pytestmark = pytest.mark.network


def test_serve_record_then_replay_check(tmp_path: Path) -> None:
    recording = tmp_path / "lab.jsonl"
    server = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0",
         "--smtps-port", "0", "--pop3s-port", "0", "--imaps-port", "0",
         "--quiet", "--record", str(recording)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")},  # the TLS certificate goes there
    )
    try:
        ports = {}
        while len(ports) < 3:
            line = server.stdout.readline()  # type: ignore[union-attr]
            assert line, server.stderr.read()  # type: ignore[union-attr]
            found = re.match(r"(\w+)\s+listening on [\d.]+:(\d+)", line)
            if found:
                ports[found.group(1)] = int(found.group(2))
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
