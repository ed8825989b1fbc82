"""ENVELOPE, BODYSTRUCTURE and sections over the wire are exactly the MIME model's
views (so the server and the inspector never disagree), checked by hand for the
simplest sample and across the stdlib's e-mail test corpus."""

from __future__ import annotations

import imaplib
import os
import re
from pathlib import Path

import pytest

from mailsim.mime import build_model
from mailsim.mime.imap import bodystructure, envelope, to_crlf
from mailsim.store.world import load_world


def _corpus() -> list[Path]:
    try:
        import test.test_email as stdlib_email_tests
    except ImportError:
        return []
    data = Path(os.path.dirname(stdlib_email_tests.__file__)) / "data"
    return sorted(data.glob("msg_*.txt")) if data.is_dir() else []


@pytest.fixture
def alice(imap_port):
    client = imaplib.IMAP4("127.0.0.1", imap_port)
    client.login("alice", "wonderland")
    yield client
    client.logout()


def fetch_item(client: imaplib.IMAP4, number: str, item: str) -> bytes:
    """The raw bytes of one FETCH item as sent (literals re-joined)."""
    typ, data = client.fetch(number, f"({item})")
    assert typ == "OK"
    joined = b"".join(part[0] + part[1] if isinstance(part, tuple) else part for part in data)
    match = re.match(rb"\d+ \(" + re.escape(item.encode()) + rb" (.*)\)$", joined, re.DOTALL)
    assert match, joined
    return match.group(1)


def test_simple_message_by_hand(alice):
    """Message 1 has no Content-Type: text/plain, us-ascii, 7bit (RFC 2045 §5.2)."""
    alice.select("INBOX", readonly=True)
    raw = [m.raw for m in load_world().messages][0]
    body = raw.partition(b"\r\n\r\n")[2]
    expected = b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d NIL NIL NIL NIL)' % (
        len(body), body.count(b"\n")
    )
    assert fetch_item(alice, "1", "BODYSTRUCTURE") == expected
    assert fetch_item(alice, "1", "BODY") == expected[: -len(b" NIL NIL NIL NIL)")] + b")"
    assert fetch_item(alice, "1", "ENVELOPE") == (
        b'("Tue, 01 Sep 2026 11:14:52 +0200" "Welcome to the mail lab" '
        b'(("Bob Builder" NIL "bob" "mailsim.test")) (("Bob Builder" NIL "bob" "mailsim.test")) '
        b'(("Bob Builder" NIL "bob" "mailsim.test")) (("Alice Liddell" NIL "alice" "mailsim.test")) '
        b'NIL NIL NIL "<20260901091452.7c41@mailsim.test>")'
    )


def test_every_sample_matches_the_model(alice, servers):
    alice.select("INBOX", readonly=True)
    raws = servers.call(lambda: [m.raw for m in servers.store.mailbox("alice", "INBOX").messages])
    for number, raw in enumerate(raws, 1):
        model = build_model(to_crlf(raw))
        assert fetch_item(alice, str(number), "BODYSTRUCTURE") == bodystructure(model)
        assert fetch_item(alice, str(number), "ENVELOPE") == envelope(model)


@pytest.mark.skipif(not _corpus(), reason="the stdlib's test.test_email data is not installed")
def test_stdlib_corpus_through_append_and_fetch(alice):
    alice.create("Corpus")
    messages = []
    for path in _corpus():
        raw = to_crlf(path.read_bytes())
        if not raw.strip():
            continue
        typ, _ = alice.append("Corpus", None, None, raw)
        assert typ == "OK", path.name
        messages.append((path.name, raw))
    alice.select("Corpus", readonly=True)
    for number, (name, raw) in enumerate(messages, 1):
        model = build_model(raw)
        assert fetch_item(alice, str(number), "BODYSTRUCTURE") == bodystructure(model), name
        assert fetch_item(alice, str(number), "ENVELOPE") == envelope(model), name
        assert fetch_item(alice, str(number), "RFC822.SIZE") == str(len(raw)).encode(), name
