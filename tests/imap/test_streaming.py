"""A long FETCH is rendered piece by piece as the transport drains it, with the same
bytes as all at once, and commands sent meanwhile wait their turn."""

from __future__ import annotations

import imaplib

from mailsim.clock import FixedClock, SequentialIds
from mailsim.protocol.imap import ImapSession
from mailsim.store.world import build_store

COMMANDS = b"a LOGIN alice wonderland\r\nb SELECT INBOX\r\nc FETCH 1:* (UID BODY[])\r\nd NOOP\r\n"


def fresh_session(threshold: int | None) -> ImapSession:
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    session = ImapSession(store, session_id="stream")
    session.stream_threshold = threshold
    session.start()
    return session


def test_streamed_answer_is_byte_identical_and_ordered():
    whole = fresh_session(None)
    whole.receive_data(COMMANDS)
    expected = whole.data_to_send()

    streamed = fresh_session(8000)
    streamed.receive_data(COMMANDS)
    pieces = [streamed.data_to_send()]
    while streamed.has_more_output:
        pieces.append(streamed.data_to_send())
    assert len(pieces) >= 3  # the 45 KB answer came out in several pieces
    assert all(len(piece) < 8000 + 30000 for piece in pieces)  # never much more than asked
    assert b"".join(pieces) == expected
    assert expected.endswith(b"c OK FETCH completed\r\nd OK NOOP completed\r\n")
    # \Seen was set along the way, exactly as when rendered at once.
    assert all("\\Seen" in m.flags for m in streamed.store.mailbox("alice", "INBOX").messages)


def test_eof_while_streaming_stops_cleanly():
    session = fresh_session(4000)
    session.receive_data(COMMANDS)
    session.data_to_send()
    assert session.has_more_output
    session.receive_eof()
    assert not session.has_more_output and session.closed


def test_many_large_messages_over_tcp(servers, imap_port):
    body = (b"0123456789abcdef" * 64 + b"\r\n") * 40  # about 41 KB each
    for number in range(150):  # about 6 MB in all: far past the transport's buffers
        servers.call(servers.store.append, "alice", "Archive", b"Subject: big %d\r\n\r\n" % number + body)
    client = imaplib.IMAP4("127.0.0.1", imap_port)
    client.login("alice", "wonderland")
    typ, data = client.select("Archive", readonly=True)
    count = int(data[0])
    typ, data = client.fetch("1:*", "(BODY.PEEK[TEXT])")
    assert typ == "OK"
    texts = [part[1] for part in data if isinstance(part, tuple)]
    assert len(texts) == count and texts[-1] == body
    assert client.noop()[0] == "OK"
    client.logout()
