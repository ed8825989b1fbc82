"""EXAMINE must not take \\Recent away from other sessions (RFC 3501 §6.3.2)."""

from __future__ import annotations

from mailsim.protocol.imap import ImapSession
from mailsim.store.world import build_store


def session(store, name: str) -> ImapSession:
    s = ImapSession(store, session_id=name)
    s.start()
    s.receive_data(b"a LOGIN alice wonderland\r\n")
    s.data_to_send()
    return s


def open_mailbox(s: ImapSession, verb: str) -> bytes:
    s.receive_data(f"b {verb} INBOX\r\n".encode())
    return s.data_to_send()


def test_examine_leaves_recent_for_a_later_select() -> None:
    store = build_store()
    count = len(store.mailbox("alice", "INBOX").messages)
    examiner, selector = session(store, "e"), session(store, "s")
    assert f"* {count} RECENT".encode() in open_mailbox(examiner, "EXAMINE")
    assert f"* {count} RECENT".encode() in open_mailbox(selector, "SELECT")
    # Once a SELECT claimed them, another session sees none as recent.
    assert b"* 0 RECENT" in open_mailbox(session(store, "t"), "SELECT")
    assert b"* 0 RECENT" in open_mailbox(session(store, "u"), "EXAMINE")


def test_examine_does_not_claim_new_arrivals() -> None:
    store = build_store()
    count = len(store.mailbox("alice", "INBOX").messages)
    examiner = session(store, "e")
    open_mailbox(examiner, "EXAMINE")
    selector = session(store, "s")
    open_mailbox(selector, "SELECT")
    store.append("alice", "INBOX", b"Subject: new\r\n\r\nx\r\n")
    examiner.receive_data(b"c NOOP\r\n")
    assert b"RECENT" in examiner.data_to_send()
    selector.receive_data(b"c NOOP\r\n")
    # The selecting session holds every message as \Recent, the new one included.
    assert f"* {count + 1} RECENT".encode() in selector.data_to_send()
