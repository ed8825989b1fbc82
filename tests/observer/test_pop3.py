"""The POP3 observer says what the POP3 engine says (see `equivalence.py`)."""

from __future__ import annotations

import base64

import pytest

from mailsim.events import ClientLine, ServerLine
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.pop3_observer import Pop3Observer
from tests.observer.equivalence import assert_same

DIALOGS = {
    "three states": [
        b"CAPA\r\n", b"USER alice\r\n", b"PASS wonderland\r\n", b"STAT\r\n", b"LIST\r\n", b"LIST 2\r\n",
        b"UIDL\r\n", b"UIDL 1\r\n", b"RETR 1\r\n", b"TOP 3 2\r\n", b"DELE 1\r\n", b"RETR 1\r\n", b"RSET\r\n",
        b"DELE 2\r\n", b"NOOP\r\n", b"QUIT\r\n",
    ],
    "pipelined (RFC 2449)": [b"USER bob\r\nPASS builder\r\nSTAT\r\nLIST\r\nRETR 1\r\nQUIT\r\n"],
    "refusals": [
        b"STAT\r\n", b"PASS x\r\n", b"USER alice\r\n", b"PASS wrong\r\n", b"LAST\r\n", b"FROB\r\n",
        b"USER alice\r\n", b"PASS wonderland\r\n", b"USER bob\r\n", b"RETR 99\r\n", b"TOP x\r\n", b"QUIT\r\n",
    ],
    "AUTH PLAIN after a challenge": [
        b"AUTH\r\n", b"AUTH PLAIN\r\n", base64.b64encode(b"\0bob\0builder") + b"\r\n", b"STAT\r\n", b"QUIT\r\n",
    ],
    "AUTH PLAIN with an initial response": [
        b"AUTH PLAIN " + base64.b64encode(b"\0alice\0wonderland") + b"\r\n", b"LIST\r\n",
    ],
    "AUTH cancelled and failed": [
        b"AUTH LOGIN\r\n", b"*\r\n", b"AUTH CRAM-MD5\r\n", b"YWxpY2UgMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=\r\n",
        b"AUTH NONSENSE\r\n",
    ],
}


@pytest.mark.parametrize("turns", DIALOGS.values(), ids=DIALOGS.keys())
def test_observer_says_what_the_engine_says(turns: list[bytes]) -> None:
    assert_same(Pop3Session, Pop3Observer, turns)


def test_bodies_are_content_and_responses_are_sasl() -> None:
    seen = assert_same(Pop3Session, Pop3Observer, DIALOGS["AUTH PLAIN after a challenge"])
    assert [(e.line_kind, e.verb) for e in seen if isinstance(e, ClientLine)][:3] == [
        ("command", "AUTH"), ("command", "AUTH"), ("sasl", "AUTH")]
    seen = assert_same(Pop3Session, Pop3Observer, DIALOGS["three states"])
    bodies = [e for e in seen if isinstance(e, ServerLine) and e.content]
    assert bodies and all(b"\r\n" in e.data for e in bodies)


def test_a_body_arriving_in_pieces() -> None:
    watcher = Pop3Observer(session_id="s")
    watcher.server_data(b"+OK ready\r\n")
    watcher.client_data(b"USER a\r\nPASS b\r\nRETR 1\r\n")
    watcher.server_data(b"+OK\r\n+OK in\r\n+OK 20 octets\r\nSubject: x\r\n")
    watcher.server_data(b"\r\n..dot\r\n.\r")
    watcher.server_data(b"\n")
    events = watcher.events()
    body = b"".join(e.data for e in events if isinstance(e, ServerLine) and e.content)
    assert body == b"Subject: x\r\n\r\n..dot\r\n"
    assert watcher.state.value == "transaction" and watcher.user == "a"


def test_stls_then_encrypted_from_here() -> None:
    watcher = Pop3Observer(session_id="s")
    watcher.server_data(b"+OK ready\r\n")
    watcher.client_data(b"STLS\r\n")
    watcher.server_data(b"+OK Begin TLS negotiation\r\n")
    watcher.client_data(b"\x16\x03\x01\x00\x05hello")
    watcher.server_data(b"\x16\x03\x03\x00\x02hi")
    events = watcher.events()
    assert watcher.encrypted and [e.key for e in events if e.kind == "note"] == ["dialog.encrypted"]
    assert [(e.kind, getattr(e, "line_kind", "")) for e in events[-2:]] == [("client", "encrypted"), ("server", "")]
