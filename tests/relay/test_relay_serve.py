"""`mailsim serve` serves every domain of the world: the home servers, a submission
port, and ejemplo.test's MX — and relays between them while it runs."""

from __future__ import annotations

import imaplib
import re
import signal
import smtplib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.network


def test_serve_every_domain_and_relay_between_them() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0",
         "--submission-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        banner: list[str] = []
        while not banner or not banner[-1].startswith("Ctrl-C"):
            line = server.stdout.readline()  # type: ignore[union-attr]
            assert line, server.stderr.read()  # type: ignore[union-attr]
            banner.append(line.rstrip("\n"))
        text = "\n".join(banner)
        ports = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+) listening on [\d.]+:(\d+)$", text, re.M)}
        submission = int(re.search(r"^submission: SMTP as mailsim\.test on [\d.]+:(\d+)$", text, re.M).group(1))
        mx = int(re.search(r"^ejemplo\.test \(MX\): SMTP as mx\.ejemplo\.test on [\d.]+:(\d+)$", text, re.M).group(1))
        assert "carmen@ejemplo.test" in text and "ejemplo.test. MX 10 mx.ejemplo.test." in text
        with smtplib.SMTP("127.0.0.1", mx, timeout=10) as client:
            assert not client.ehlo("x.example")[1].count(b"AUTH")
        with smtplib.SMTP("127.0.0.1", submission, timeout=10) as client:
            client.login("alice@mailsim.test", "wonderland")
            client.sendmail("alice@mailsim.test", ["carmen@ejemplo.test"], b"Subject: por serve\r\n\r\nhola\r\n")
        log = []
        while not any("delivered" in line and "carmen/INBOX" in line for line in log):
            line = server.stdout.readline()  # type: ignore[union-attr]
            assert line, "\n".join(log)
            log.append(line)
        assert any("* relay " in line and "mailsim.test -> mx.ejemplo.test" in line for line in log)
        with imaplib.IMAP4("127.0.0.1", ports["IMAP"], timeout=10) as imap:
            imap.login("carmen", "castillo")
            _, data = imap.select("INBOX", readonly=True)
            _, fetched = imap.fetch(data[0].decode(), "(BODY.PEEK[HEADER])")
            header = fetched[0][1]
            assert b"Subject: por serve" in header and header.count(b"Received: ") == 2
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
