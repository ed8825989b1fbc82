"""`mailsim watch --no-ui` as a user runs it: in front of `mailsim serve`, with imaplib."""

from __future__ import annotations

import imaplib
import re
import signal
import subprocess
import sys
from pathlib import Path


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mailsim", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def address_in(process: subprocess.Popen[str], pattern: str) -> tuple[str, int]:
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(pattern, line)
        if found:
            return found.group(1), int(found.group(2))
    raise AssertionError(f"{pattern!r} never printed")


def test_watch_prints_the_wire_log_and_records_a_replayable_session(tmp_path: Path) -> None:
    serve = start("serve", "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0", "--no-tls", "--submission-port", "0", "--quiet")
    watch = None
    try:
        host, port = address_in(serve, r"IMAP listening on ([\d.]+):(\d+)")
        record = tmp_path / "watched.jsonl"
        watch = start("watch", "--listen", "0", "--to", f"{host}:{port}", "--protocol", "imap", "--no-ui",
                      "--record", str(record))
        listen_host, listen_port = address_in(watch, r"connecting to ([\d.]+):(\d+) are relayed")
        with imaplib.IMAP4(listen_host, listen_port) as imap:
            imap.login("alice", "wonderland")
            # LIST, not SELECT: the replay rebuilds the default world at the recording's
            # first second, and a UIDVALIDITY is the second its mailbox was made.
            imap.list()
        watch.send_signal(signal.SIGINT)
        out, _ = watch.communicate(timeout=10)
        assert watch.returncode == 0
        assert re.search(r"C: \S+ LOGIN alice", out) and "S: " in out and "stopped." in out
        assert "wonderland" not in out  # the password is blanked in the log...
        assert "wonderland" in record.read_text()  # ...a published password stays in the recording, which replays
        check = subprocess.run([sys.executable, "-m", "mailsim", "replay", "--check", str(record)],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        for process in (watch, serve):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
            if process is not None and process.stdout is not None:
                process.stdout.close()
