"""Bad input never crashes a session: random and mutated command lines are always
answered (a tagged or untagged status) by the command's own code, never by the
catch-all [SERVERBUG] (the oracle), and the session keeps working afterwards."""

from __future__ import annotations

from fuzz_oracle import assert_no_server_bug, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsim.clock import FixedClock, SequentialIds
from mailsim.protocol.imap import ImapSession
from mailsim.protocol.imap.parser import ParseError, parse_command
from mailsim.store.world import build_store

VALID = [
    b"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[1.MIME]<0.10>)",
    b"a UID SEARCH OR (FROM bob SINCE 1-Sep-2026) NOT (SEEN LARGER 100)",
    b"a STORE 2:3 +FLAGS.SILENT (\\Flagged $x)",
    b'a STATUS "INBOX" (MESSAGES UNSEEN)',
    b'a LIST "" "%"',
    b"a UID COPY 1:2 Trash",
    b"a EXAMINE INBOX",
]
WORDS = st.sampled_from(
    [b"(", b")", b"[", b"]", b"<", b">", b'"', b"\\", b"{", b"}", b"*", b"%", b":", b",", b" ", b"1", b"0",
     b"FETCH", b"BODY", b"PEEK", b"HEADER.FIELDS", b"NOT", b"OR", b"UID", b"{3}", b"{5+}", b"\xff", b"NIL"]
)


def selected_session() -> ImapSession:
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    session = ImapSession(store, session_id="fuzz")
    session.start()
    session.receive_data(b"l LOGIN alice wonderland\r\ns SELECT INBOX\r\n")
    session.data_to_send()
    return session


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 200), WORDS), max_size=4))
def test_mutated_commands_are_answered(base, edits):
    line = mutate(base, edits)
    session = selected_session()
    session.receive_data(line + b"\r\n")
    # Inserted digits can announce literals of up to a few thousand octets: feed
    # enough to complete any of them, ending the command line too.
    session.receive_data(b"x" * 20000 + b"\r\n")
    session.receive_data(b"z NOOP\r\n")
    out = session.data_to_send()
    assert_no_server_bug(session.events(), line)
    if session.closed:
        assert b"* BYE " in out
    else:
        assert out.endswith(b"z OK NOOP completed\r\n")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_parser_raises_only_parse_errors(data):
    try:
        parse_command(data)
    except ParseError:
        pass
