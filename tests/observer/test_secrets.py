"""Passwords blanked for display, found by what each line is (the observers' facts)."""

from __future__ import annotations

import base64

import pytest

from mailsim.events import ClientLine
from mailsim.protocol.imap.observer import ImapObserver
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.pop3_observer import Pop3Observer
from mailsim.protocol.secrets import without_secrets
from mailsim.protocol.smtp import SmtpSession
from mailsim.protocol.smtp_observer import SmtpObserver
from tests.observer.equivalence import drive_engine, drive_observer

PLAIN = base64.b64encode(b"\0alice\0wonderland")
LOGIN_PASSWORD = base64.b64encode(b"wonderland")

CASES = [
    (SmtpSession, SmtpObserver, [b"EHLO x\r\n", b"AUTH PLAIN " + PLAIN + b"\r\n", b"QUIT\r\n"]),
    (SmtpSession, SmtpObserver, [b"EHLO x\r\n", b"AUTH LOGIN\r\n", base64.b64encode(b"alice") + b"\r\n",
                                 LOGIN_PASSWORD + b"\r\n", b"QUIT\r\n"]),
    (Pop3Session, Pop3Observer, [b"USER alice\r\n", b"PASS wonderland\r\n", b"QUIT\r\n"]),
    (Pop3Session, Pop3Observer, [b"AUTH PLAIN\r\n", PLAIN + b"\r\n", b"QUIT\r\n"]),
    (ImapSession, ImapObserver, [b"a LOGIN alice wonderland\r\n", b"b LOGOUT\r\n"]),
    (ImapSession, ImapObserver, [b"a LOGIN {5}\r\n", b"alice {10}\r\n", b"wonderland\r\n", b"b LOGOUT\r\n"]),
    (ImapSession, ImapObserver, [b"a AUTHENTICATE PLAIN " + PLAIN + b"\r\n", b"b LOGOUT\r\n"]),
    (ImapSession, ImapObserver, [b"a AUTHENTICATE PLAIN\r\n", PLAIN + b"\r\n", b"b LOGOUT\r\n"]),
]


@pytest.mark.parametrize("engine, observer, turns", CASES)
def test_no_password_survives_and_the_rest_does(engine, observer, turns) -> None:
    lines = [e for e in drive_observer(observer, drive_engine(engine, turns)) if isinstance(e, ClientLine)]
    shown = b"".join(without_secrets(line) for line in lines)
    for secret in (b"wonderland", PLAIN, LOGIN_PASSWORD):
        assert secret not in shown
    assert shown.count(b"\r\n") == b"".join(line.data for line in lines).count(b"\r\n")
    assert b"LOGOUT" in shown or b"QUIT" in shown  # what is not secret is kept
    assert all(without_secrets(line) == line.data for line in lines if line.verb in ("QUIT", "LOGOUT", "EHLO"))
