"""The IMAP observer says what the IMAP engine says (see `equivalence.py`)."""

from __future__ import annotations

import base64

import pytest

from mailsim.events import ClientLine, Note, Reply
from mailsim.protocol.imap.observer import ImapObserver
from mailsim.protocol.imap.session import ImapSession
from tests.observer.equivalence import assert_same

PLAIN = base64.b64encode(b"\0alice\0wonderland")

DIALOGS = {
    "select, fetch, store, expunge": [
        b"a CAPABILITY\r\n", b"b LOGIN alice wonderland\r\n", b"c LIST \"\" *\r\n", b"d SELECT INBOX\r\n",
        b"e FETCH 1:2 (FLAGS UID)\r\n", b"f FETCH 3 BODY[]\r\n", b"g UID FETCH 1:* (BODYSTRUCTURE)\r\n",
        b"h STORE 1 +FLAGS (\\Deleted)\r\n", b"i EXPUNGE\r\n", b"j CLOSE\r\n", b"k LOGOUT\r\n",
    ],
    "pipelined commands": [
        b"a LOGIN bob builder\r\nb SELECT INBOX\r\nc FETCH 1 (ENVELOPE)\r\nd NOOP\r\ne SEARCH ALL\r\n",
        b"f EXAMINE INBOX\r\ng SELECT nosuch\r\nh LOGOUT\r\n",
    ],
    "synchronising literals": [
        b"a LOGIN {5}\r\n", b"alice {10}\r\n", b"wonderland\r\n", b"b CREATE {6}\r\n", b"Drafts\r\n",
        b"c APPEND Drafts (\\Draft) {23}\r\n", b"Subject: d\r\n\r\nhello\r\n\r\n", b"d LOGOUT\r\n",
    ],
    "LITERAL+ octets sent at once": [
        b"a LOGIN {5+}\r\nalice {10+}\r\nwonderland\r\n",
        b"b APPEND INBOX {14+}\r\nSubject: p\r\n\r\n\r\nc SELECT INBOX\r\n",
    ],
    "a literal refused before its octets": [
        b"a APPEND INBOX {5}\r\n", b"b LOGIN alice wonderland\r\n", b"c APPEND INBOX {99999999999}\r\n",
        b"d NOOP\r\n",
    ],
    "IDLE and DONE": [
        b"a LOGIN alice wonderland\r\n", b"b SELECT INBOX\r\n", b"c IDLE\r\n", b"DONE\r\n",
        b"d IDLE\r\n", b"nonsense\r\n", b"e UNSELECT\r\n", b"f IDLE\r\n", b"DONE\r\n",
    ],
    "AUTHENTICATE with challenges": [
        b"a AUTHENTICATE PLAIN\r\n", PLAIN + b"\r\n", b"b SELECT INBOX\r\n", b"c SELECT Trash\r\n",
    ],
    "AUTHENTICATE with SASL-IR, failures": [
        b"a AUTHENTICATE LOGIN\r\n", b"*\r\n", b"b AUTHENTICATE PLAIN !!!\r\n",
        b"c AUTHENTICATE PLAIN " + base64.b64encode(b"\0alice\0no") + b"\r\n",
        b"d AUTHENTICATE PLAIN " + PLAIN + b"\r\n",
    ],
    "errors in every state": [
        b"\r\n", b"a FETCH 1 BODY[]\r\n", b"b FROB\r\n", b"c LOGIN\r\n", b"d STARTTLS\r\n",
        b"e LOGIN alice wonderland\r\n", b"f LOGIN alice wonderland\r\n", b"g FETCH 1 FLAGS\r\n",
        b"h SELECT INBOX\r\n", b"i FETCH 99 FLAGS\r\n", b"j STORE 1 +FLAGS (\\Recent)\r\n",
    ],
}


@pytest.mark.parametrize("turns", DIALOGS.values(), ids=DIALOGS.keys())
def test_observer_says_what_the_engine_says(turns: list[bytes]) -> None:
    assert_same(ImapSession, ImapObserver, turns)


def test_client_lines_carry_tag_verb_and_kind() -> None:
    seen = assert_same(ImapSession, ImapObserver, DIALOGS["synchronising literals"])
    facts = [(e.line_kind, e.verb, e.tag) for e in seen if isinstance(e, ClientLine)]
    assert facts[:3] == [("command", "LOGIN", "a"), ("literal", "LOGIN", "a"), ("command", "LOGIN", "a")]
    seen = assert_same(ImapSession, ImapObserver, DIALOGS["IDLE and DONE"])
    assert ("done", "IDLE", "c") in [(e.line_kind, e.verb, e.tag) for e in seen if isinstance(e, ClientLine)]


def test_a_continuation_names_the_command_it_waits_on() -> None:
    seen = assert_same(ImapSession, ImapObserver, DIALOGS["synchronising literals"])
    assert [r.command for r in seen if isinstance(r, Reply) and r.code == "+"][:2] == ["LOGIN", "LOGIN"]


def test_a_fetch_literal_split_anywhere() -> None:
    watcher = ImapObserver(session_id="s")
    for piece in (b"* OK hi\r\n", b"* 1 FETCH (BODY[] {1", b"2}\r\nline\r\n", b"\r\nend)\r\n", b"a OK done\r\n"):
        watcher.server_data(piece)
        if piece.startswith(b"* OK"):
            watcher.client_data(b"a FETCH 1 BODY[]\r\n")
    replies = [(r.code, r.command, r.tag) for r in watcher.events() if isinstance(r, Reply)]
    assert replies == [("OK", "", ""), ("OK", "FETCH", "a")]


def test_unknown_tags_and_stray_continuations_are_notes() -> None:
    watcher = ImapObserver(session_id="s")
    watcher.server_data(b"* OK hi\r\nzz OK what\r\n+ go on\r\n")
    notes = [e.key for e in watcher.events() if isinstance(e, Note)]
    assert notes == ["dialog.imap-unknown-tag", "dialog.imap-unexpected-continuation"]


def test_starttls_then_encrypted_from_here() -> None:
    watcher = ImapObserver(session_id="s")
    watcher.server_data(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n")
    watcher.client_data(b"a STARTTLS\r\n")
    watcher.server_data(b"a OK Begin TLS negotiation now\r\n\x16\x03\x03")
    events = watcher.events()
    assert watcher.encrypted and [e.key for e in events if isinstance(e, Note)] == ["dialog.encrypted"]
    assert events[-1].kind == "server" and events[-1].data == b"\x16\x03\x03" and events[-1].content
    watcher.client_data(b"\x16\x03\x01")
    assert watcher.events()[-1].line_kind == "encrypted"


def test_preauth_and_bye_greetings() -> None:
    watcher = ImapObserver(session_id="s")
    watcher.server_data(b"* PREAUTH welcome back\r\n")
    assert watcher.state.value == "authenticated"
    other = ImapObserver(session_id="t")
    other.server_data(b"* BYE too busy\r\n")
    other.server_eof()
    assert other.state.value == "logout" and other.events()[-1].reason == "server closed the connection"
