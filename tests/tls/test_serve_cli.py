"""`mailsim serve` with TLS as a student runs it: every port on 0, the certificate made
in the user data directory, its fingerprint and CA printed, implicit-TLS ports listening."""

from __future__ import annotations

import imaplib
import os
import re
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from mailsim.transport.tls import client_context

pytestmark = pytest.mark.network


def _serve(tmp_path: Path, *options: str) -> tuple[subprocess.Popen, dict[str, int], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--quiet", "--smtp-port", "0", "--pop3-port", "0",
         "--imap-port", "0", "--smtps-port", "0", "--pop3s-port", "0", "--imaps-port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
    )
    printed = []
    while True:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line, server.stderr.read()  # type: ignore[union-attr]
        printed.append(line)
        if line.startswith("Ctrl-C"):
            break
    text = "".join(printed)
    ports = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+listening on [\d.]+:(\d+)", text, re.M)}
    return server, ports, text


def _stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGINT)
    server.communicate(timeout=20)


def test_serve_prints_the_fingerprint_and_serves_implicit_tls(tmp_path):
    server, ports, text = _serve(tmp_path, "--require-tls-for-auth")
    try:
        assert set(ports) == {"SMTP", "POP3", "IMAP", "SMTPS", "POP3S", "IMAPS"}
        fingerprint = re.search(r"SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})", text).group(1)
        ca = tmp_path / "mailsim" / "tls" / "ca.pem"
        assert str(ca) in text and ca.exists()
        context = client_context(ca)
        with smtplib.SMTP_SSL("localhost", ports["SMTPS"], context=context, timeout=10) as client:
            client.ehlo("student.example")
            assert client.has_extn("auth")  # encrypted from the start: passwords welcome
            der = client.sock.getpeercert(binary_form=True)
        from mailsim.transport.tls import fingerprint_of

        assert fingerprint_of(der) == fingerprint  # what the student compares
        imap = imaplib.IMAP4("localhost", ports["IMAP"], timeout=10)
        assert "LOGINDISABLED" in imap.capabilities
        imap.starttls(ssl_context=context)
        imap.login("alice", "wonderland")
        imap.logout()
    finally:
        _stop(server)


def test_serve_refuses_contradictory_options(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mailsim", "serve", "--no-tls", "--require-tls-for-auth"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
    )
    assert result.returncode == 2 and "--require-tls-for-auth needs TLS" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "mailsim", "serve", "--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", "k.pem"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2 and "cannot use" in result.stderr
