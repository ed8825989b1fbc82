"""Observers mark a watched client's passwords where the engines mark them, so the wire
log, shared tabs and recordings mask them alike."""

from __future__ import annotations

import base64

import pytest

from mailsim.events import ClientLine
from mailsim.protocol.imap.observer import ImapObserver
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.pop3_observer import Pop3Observer
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
def test_observers_mark_the_secrets_the_engines_mark(engine, observer, turns) -> None:
    conversation = drive_engine(engine, turns)
    by_engine = [(e.data, e.secret) for e in conversation.events if isinstance(e, ClientLine)]
    lines = [e for e in drive_observer(observer, conversation) if isinstance(e, ClientLine)]
    assert [(line.data, line.secret) for line in lines] == by_engine
    shown = b"".join(line.shown for line in lines)
    for secret in (b"wonderland", PLAIN, LOGIN_PASSWORD):
        assert secret not in shown
    assert shown.count(b"\r\n") == b"".join(line.data for line in lines).count(b"\r\n")
    assert b"LOGOUT" in shown or b"QUIT" in shown  # what is not secret is kept
    assert all(line.shown == line.data for line in lines if line.verb in ("QUIT", "LOGOUT", "EHLO"))
