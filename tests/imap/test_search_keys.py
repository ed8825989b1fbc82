"""Every search key of RFC 3501 §6.4.4, against the default world plus one message
with Cc, Bcc, a keyword, \\Draft and \\Deleted (driven sans-IO)."""

from __future__ import annotations

import pytest

from mailsim.protocol.imap import ImapSession

EXTRA = (
    b"Date: Sat, 19 Sep 2026 09:00:00 +0000\r\n"
    b"From: Dave <dave@example.org>\r\n"
    b"To: Alice <alice@mailsim.test>\r\n"
    b"Cc: Carol <carol@example.org>\r\n"
    b"Bcc: dave.archive@example.org\r\n"
    b"Subject: Minutes\r\n"
    b"\r\n"
    b"Quarterly numbers attached.\r\n"
)


def run(session: ImapSession, line: bytes) -> list[bytes]:
    session.receive_data(line + b"\r\n")
    return session.data_to_send().split(b"\r\n")[:-1]


@pytest.fixture(scope="module")
def session():
    from mailsim.clock import FixedClock, SequentialIds
    from mailsim.store.world import build_store

    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    first = ImapSession(store, session_id="first")
    first.start()
    run(first, b"a LOGIN alice wonderland")
    run(first, b"b SELECT INBOX")  # messages 1-7 become \Recent in this session, not ours
    run(first, b"c UNSELECT")  # else message 8 would be \Recent there too, on arrival
    ours = ImapSession(store, session_id="ours")
    ours.start()
    run(ours, b"a LOGIN alice wonderland")
    appended = run(ours, b'b APPEND INBOX (\\Draft \\Deleted $Work) "20-Sep-2026 10:00:00 +0000" {%d+}\r\n'
                   % len(EXTRA) + EXTRA)
    assert appended[-1].startswith(b"b OK [APPENDUID ")
    run(ours, b"c SELECT INBOX")
    return ours


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("ALL", "1 2 3 4 5 6 7 8"),
        ("ANSWERED", "3"),
        ("UNANSWERED", "1 2 4 5 6 7 8"),
        ("DELETED", "8"),
        ("UNDELETED", "1 2 3 4 5 6 7"),
        ("DRAFT", "8"),
        ("UNDRAFT", "1 2 3 4 5 6 7"),
        ("FLAGGED", "2 5"),
        ("UNFLAGGED", "1 3 4 6 7 8"),
        ("SEEN", "1 3 5 7"),
        ("UNSEEN", "2 4 6 8"),
        ("KEYWORD $Work", "8"),
        ("UNKEYWORD $Work", "1 2 3 4 5 6 7"),
        ("RECENT", "8"),
        ("NEW", "8"),
        ("OLD", "1 2 3 4 5 6 7"),
        ("FROM bob", "1 3 5"),
        ("FROM UNIVERSIDAD.example", "2 6"),
        ("TO bob", "2"),
        ("CC carol", "8"),
        ("BCC dave.archive", "8"),
        ('SUBJECT "AÑO 2026"', "2"),
        ("HEADER Message-ID campus", "4"),
        ('HEADER Cc ""', "8"),
        ("BODY quarterly", "8"),
        ("BODY minutes", ""),
        ("TEXT minutes", "8"),
        ("LARGER 29000", "6"),
        ("SMALLER 1000", "1 8"),
        ("BEFORE 2-Sep-2026", "1"),
        ("ON 2-Sep-2026", "2"),
        ("SINCE 14-Sep-2026", "7 8"),
        ("SENTBEFORE 2-Sep-2026", "1"),
        ("SENTON 19-Sep-2026", "8"),
        ("SENTSINCE 10-Sep-2026", "6 7 8"),
        ("UID 2:3", "2 3"),
        ("7:*", "7 8"),
        ("NOT SEEN", "2 4 6 8"),
        ("OR ANSWERED DRAFT", "3 8"),
        ("(FLAGGED SEEN)", "5"),
        ("FLAGGED SEEN", "5"),
        ("CHARSET US-ASCII FROM bob", "1 3 5"),
    ],
)
def test_search_key(session, criteria, expected):
    lines = run(session, b"s SEARCH " + criteria.encode())
    assert lines == [f"* SEARCH {expected}".rstrip().encode(), b"s OK SEARCH completed"]


def test_uid_search_answers_uids(session):
    assert run(session, b"u UID SEARCH 7:*") == [b"* SEARCH 7 8", b"u OK UID SEARCH completed"]
