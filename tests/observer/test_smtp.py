"""The SMTP observer says what the SMTP engine says (see `equivalence.py`)."""

from __future__ import annotations

import base64

import pytest

from mailsim.events import ClientLine, Note
from mailsim.protocol.smtp import SmtpSession
from mailsim.protocol.smtp_observer import SmtpObserver
from tests.observer.equivalence import assert_same, drive_engine, drive_observer

PLAIN = base64.b64encode(b"\0alice\0wonderland")

DIALOGS = {
    "one message": [
        b"EHLO laptop\r\n", b"MAIL FROM:<bob@mailsim.test>\r\n", b"RCPT TO:<alice@mailsim.test>\r\n",
        b"DATA\r\n", b"Subject: hi\r\n\r\n..dot-stuffed\r\nbye\r\n.\r\n", b"QUIT\r\n",
    ],
    "pipelined (RFC 2920)": [
        b"EHLO laptop\r\nMAIL FROM:<bob@mailsim.test>\r\nRCPT TO:<alice@mailsim.test>\r\n"
        b"RCPT TO:<nobody@mailsim.test>\r\nDATA\r\n",
        b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n",
    ],
    "message text in pieces": [
        b"HELO x\r\n", b"MAIL FROM:<>\r\n", b"RCPT TO:<bob@mailsim.test>\r\n", b"DATA\r\n",
        b"Subject: a\r\n", b"\r\nline one\r\n", b"line two\r\n.", b"\r\n",
    ],
    "refusals and out of sequence": [
        b"MAIL FROM:<a@b.c>\r\n", b"EHLO x\r\n", b"RCPT TO:<a@b.c>\r\n", b"DATA\r\n", b"BOGUS\r\n",
        b"SEND x\r\n", b"VRFY alice\r\n", b"HELP MAIL\r\n", b"HELP\r\n", b"NOOP\r\n", b"RSET\r\n",
        b"MAIL FROM:<bob@mailsim.test>\r\n", b"RCPT TO:<x@elsewhere.test>\r\n", b"DATA\r\n", b"QUIT\r\n",
    ],
    "AUTH LOGIN, challenges and responses": [
        b"EHLO x\r\n", b"AUTH LOGIN\r\n", base64.b64encode(b"alice") + b"\r\n",
        base64.b64encode(b"wonderland") + b"\r\n", b"MAIL FROM:<alice@mailsim.test>\r\n",
        b"RCPT TO:<someone@elsewhere.test>\r\n", b"QUIT\r\n",
    ],
    "AUTH PLAIN with an initial response, then a failed one": [
        b"EHLO x\r\n", b"AUTH PLAIN " + PLAIN + b"\r\n", b"AUTH PLAIN\r\n", b"*\r\n",
    ],
    "AUTH failures": [
        b"EHLO x\r\n", b"AUTH PLAIN " + base64.b64encode(b"\0alice\0wrong") + b"\r\n",
        b"AUTH XOAUTH9\r\n", b"AUTH PLAIN !!!\r\n", b"AUTH\r\n",
    ],
}


@pytest.mark.parametrize("turns", DIALOGS.values(), ids=DIALOGS.keys())
def test_observer_says_what_the_engine_says(turns: list[bytes]) -> None:
    assert_same(SmtpSession, SmtpObserver, turns)


def test_client_lines_carry_kind_and_verb() -> None:
    seen = assert_same(SmtpSession, SmtpObserver, DIALOGS["AUTH LOGIN, challenges and responses"])
    facts = [(e.line_kind, e.verb) for e in seen if isinstance(e, ClientLine)]
    assert facts[:4] == [("command", "EHLO"), ("command", "AUTH"), ("sasl", "AUTH"), ("sasl", "AUTH")]


def test_the_envelope_as_the_dialog_shows_it() -> None:
    watcher = SmtpObserver(session_id="s")
    conversation = drive_engine(SmtpSession, DIALOGS["pipelined (RFC 2920)"][:1])
    for client, server in conversation.turns:
        watcher.client_data(client)
        watcher.server_data(server)
    assert watcher.envelope.sender == "bob@mailsim.test"
    assert watcher.envelope.recipients == ["alice@mailsim.test"]  # the refused one is not in it


def test_bdat_chunks_are_message_text() -> None:
    watcher = SmtpObserver(session_id="s")
    watcher.server_data(b"220 mx ESMTP\r\n")
    watcher.client_data(b"EHLO x\r\n")
    watcher.server_data(b"250-mx\r\n250 CHUNKING\r\n")
    # RFC 3030: BDAT's octets follow at once, without waiting, and may hold anything.
    watcher.client_data(b"MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nBDAT 5\r\nA\r\n.\r")
    watcher.client_data(b"BDAT 3 LAST\r\n\nB\nQUIT\r\n")
    watcher.server_data(b"250 ok\r\n250 ok\r\n250 5 octets\r\n250 queued\r\n221 bye\r\n")
    lines = [(e.line_kind, e.verb, e.data) for e in watcher.events() if isinstance(e, ClientLine)]
    assert lines[3:] == [
        ("command", "BDAT", b"BDAT 5\r\n"), ("data", "BDAT", b"A\r\n.\r"),
        ("command", "BDAT", b"BDAT 3 LAST\r\n"), ("data", "BDAT", b"\nB\n"),
        ("command", "QUIT", b"QUIT\r\n"),
    ]
    assert watcher.state.value == "closed"


def test_starttls_then_encrypted_from_here() -> None:
    watcher = SmtpObserver(session_id="s")
    watcher.server_data(b"220 mx ESMTP\r\n")
    watcher.client_data(b"EHLO x\r\nSTARTTLS\r\n")
    watcher.server_data(b"250-mx\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n")
    watcher.client_data(b"\x16\x03\x01\x02\x00\x01")
    events = watcher.events()
    assert watcher.encrypted
    assert [e.key for e in events if isinstance(e, Note)] == ["dialog.encrypted"]
    assert events[-1].line_kind == "encrypted"


def test_a_reply_nobody_asked_for_is_a_note_not_a_crash() -> None:
    watcher = SmtpObserver(session_id="s")
    watcher.server_data(b"220 mx\r\n250 surprise\r\nnot a reply\r\n")
    notes = [e for e in watcher.events() if isinstance(e, Note)]
    assert [n.key for n in notes] == ["dialog.reply-without-command", "dialog.smtp-reply-syntax"]
    assert dict(notes[1].params)["line"] == "not a reply"
