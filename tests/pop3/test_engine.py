"""The POP3 engine without sockets: the transition table, exact sizes, byte-stuffing,
TOP, and what happens when a session ends any way other than QUIT."""

from __future__ import annotations

import base64
import hashlib

import pytest

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Closed, DeletionMarked, Note, Reply, ServerLine, StateChanged, event_from_record
from mailsim.protocol.base import SessionConfig, split_wire_lines
from mailsim.protocol.pop3 import (
    TRANSITIONS,
    Pop3Session,
    Pop3State,
    apop_digest,
    top_of,
    unstuffed,
    wire_form,
)
from mailsim.store.model import StoredMessage
from mailsim.store.store import MailStore
from mailsim.store.world import build_store

S = Pop3State


def new_store() -> MailStore:
    return build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("E"))


def new_session(store: MailStore, session_id: str = "test-pop3-1") -> Pop3Session:
    session = Pop3Session(store, session_id=session_id, config=SessionConfig(hostname=store.domain))
    session.start()
    session.data_to_send()
    return session


def say(session: Pop3Session, line: str | bytes) -> bytes:
    session.receive_data(line if isinstance(line, bytes) else line.encode() + b"\r\n")
    return session.data_to_send()


def logged_in(store: MailStore, user: str = "alice", password: str = "wonderland", **kwargs) -> Pop3Session:
    session = new_session(store, **kwargs)
    say(session, f"USER {user}")
    assert say(session, f"PASS {password}").startswith(b"+OK")
    return session


# -- the transition table ---------------------------------------------------------------


def test_table_names_only_known_states_and_commands() -> None:
    verbs = set(Pop3Session.COMMANDS) | {"<response>"}
    for (source, verb), target in TRANSITIONS.items():
        assert isinstance(source, Pop3State) and isinstance(target, Pop3State)
        assert verb in verbs
    assert {verb for _, verb in TRANSITIONS} == verbs  # no command is unreachable
    assert not [key for key in TRANSITIONS if key[0] is S.UPDATE]  # UPDATE is final


@pytest.mark.parametrize("state", [S.AUTHORIZATION, S.TRANSACTION])
@pytest.mark.parametrize("verb", sorted(Pop3Session.COMMANDS))
def test_a_command_missing_from_the_table_is_refused_with_the_reason(state: Pop3State, verb: str) -> None:
    store = new_store()
    session = logged_in(store) if state is S.TRANSACTION else new_session(store)
    session.events()
    say(session, f"{verb} 1")
    replies = [e for e in session.events() if isinstance(e, Reply)]
    refused = replies[0].key in ("not-logged-in", "already-logged-in")
    assert refused == ((state, verb) not in TRANSITIONS)
    assert session.state is state or not refused


GOOD_LINES = {
    "STLS": ["STLS"],
    "USER": ["USER alice"],
    "PASS": ["USER alice", "PASS wonderland"],
    "APOP": [],  # needs the greeting's timestamp; built in the test
    "AUTH": ["AUTH PLAIN"],
    "<response>": ["AUTH PLAIN", base64.b64encode(b"\0alice\0wonderland").decode()],
    "CAPA": ["CAPA"],
    "QUIT": ["QUIT"],
    "STAT": ["STAT"],
    "LIST": ["LIST"],
    "UIDL": ["UIDL"],
    "RETR": ["RETR 1"],
    "TOP": ["TOP 1 0"],
    "DELE": ["DELE 1"],
    "RSET": ["RSET"],
    "NOOP": ["NOOP"],
}


@pytest.mark.parametrize("key", sorted(TRANSITIONS, key=lambda k: (k[0].value, k[1])), ids=str)
def test_each_transition_leads_where_the_table_says(key: tuple[Pop3State, str]) -> None:
    source, verb = key
    store = new_store()
    if source is S.TRANSACTION:
        session = logged_in(store)
    else:
        session = new_session(store)
    if verb == "STLS":
        session.config = SessionConfig(hostname=store.domain, tls_offered=True)
    lines = GOOD_LINES[verb]
    if verb == "APOP":
        lines = [f"APOP alice {apop_digest(session.timestamp, 'wonderland')}"]
    for line in lines:
        reply = say(session, line)
        assert not reply.startswith(b"-ERR"), (line, reply)
    assert session.state is TRANSITIONS[key]


def test_state_changes_are_announced_with_the_command() -> None:
    session = logged_in(new_store())
    say(session, "QUIT")
    changes = [(e.old, e.new, e.command) for e in session.events() if isinstance(e, StateChanged)]
    assert changes == [("authorization", "transaction", "PASS"), ("transaction", "update", "QUIT")]


# -- sizes and byte-stuffing -------------------------------------------------------------

TRICKY = [
    b"Subject: a\r\n\r\nbody\r\n",
    b".dot first\r\n\r\n.body\r\n..\r\n.\r\n",
    b"Subject: bare LF\n\nline one\n.line two\n",
    b"Subject: no final newline\r\n\r\nlast",
    b"",
    b"\r\n\r\n.\r\n",
]


@pytest.mark.parametrize("raw", TRICKY)
def test_wire_form_size_is_what_the_client_keeps(raw: bytes) -> None:
    form = wire_form(StoredMessage(1, raw, None))  # type: ignore[arg-type]
    kept = unstuffed(form.stuffed)
    assert form.size == len(kept)
    assert kept == raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + (b"" if raw.endswith(b"\n") or not raw else b"\r\n")
    assert form.stuffed == b"" or form.stuffed.endswith(b"\r\n")
    for line in form.stuffed.split(b"\r\n"):
        assert not line.startswith(b".") or line.startswith(b"..")


def test_crlf_messages_are_sent_without_a_copy() -> None:
    raw = b"Subject: plain\r\n\r\nnothing to stuff\r\n"
    message = StoredMessage(1, raw, None)  # type: ignore[arg-type]
    assert wire_form(message).stuffed is raw
    assert wire_form(message) is wire_form(message)  # computed once


def test_stat_list_and_retr_agree_for_every_message_of_the_world() -> None:
    store = new_store()
    session = logged_in(store)
    stat = say(session, "STAT").split()
    listing = say(session, "LIST").split(b"\r\n")[1:-2]
    sizes = [int(line.split()[1]) for line in listing]
    assert int(stat[1]) == len(sizes) and int(stat[2]) == sum(sizes)
    for number, size in enumerate(sizes, start=1):
        response = say(session, f"RETR {number}")
        status, _, rest = response.partition(b"\r\n")
        assert status == f"+OK {size} octets".encode()
        assert rest.endswith(b"\r\n.\r\n")
        assert len(unstuffed(rest[: -len(b".\r\n")])) == size


def test_top_counts_body_lines() -> None:
    stuffed = b"A: 1\r\nB: 2\r\n\r\none\r\n..two\r\nthree\r\n"
    assert top_of(stuffed, 0) == b"A: 1\r\nB: 2\r\n\r\n"
    assert top_of(stuffed, 2) == b"A: 1\r\nB: 2\r\n\r\none\r\n..two\r\n"
    assert top_of(stuffed, 99) == stuffed
    assert top_of(b"A: 1\r\n", 3) == b"A: 1\r\n"  # headers only
    assert top_of(b"\r\nbody\r\nmore\r\n", 1) == b"\r\nbody\r\n"  # no headers


def test_body_is_logged_as_one_block_that_splits_into_the_wire_lines() -> None:
    session = logged_in(new_store())
    session.events()
    data = say(session, "RETR 1")
    blocks = [e.data for e in session.events() if isinstance(e, ServerLine)]
    assert b"".join(blocks) == data
    assert len(blocks) == 3  # status line, body block, terminating dot
    lines = [line for block in blocks for line in split_wire_lines(block)]
    assert b"".join(lines) == data
    assert all(line.endswith(b"\r\n") and line.count(b"\r\n") == 1 for line in lines)


def test_body_line_logging_can_be_switched_off_for_bulk_transfers() -> None:
    session = logged_in(new_store())
    session.body_log_limit = 0
    session.events()
    data = say(session, "RETR 6")
    lines = [e.data for e in session.events() if isinstance(e, ServerLine)]
    assert lines == [b"+OK 29933 octets\r\n", b".\r\n"]
    assert len(data) > 29933


def test_a_huge_body_is_logged_up_to_the_limit_then_summed_up() -> None:
    store = new_store()
    raw = b"Subject: big\r\n\r\n" + b"".join(b"line %06d\r\n" % n for n in range(10000))
    store.append("bob", "INBOX", raw)
    session = logged_in(store, "bob", "builder")
    session.body_log_limit = 1000
    session.events()
    data = say(session, "RETR 5")
    assert data == f"+OK {len(raw)} octets\r\n".encode() + raw + b".\r\n"
    events = session.events()
    logged = b"".join(e.data for e in events if isinstance(e, ServerLine))
    assert data.startswith(logged[:-3]) and len(logged) < 1100
    assert all(e.data.endswith(b"\r\n") for e in events if isinstance(e, ServerLine))
    note = next(e for e in events if isinstance(e, Note) and e.key == "pop3.body-not-logged")
    params = dict(note.params)
    unlogged = len(raw) - (len(logged) - len(f"+OK {len(raw)} octets\r\n") - len(b".\r\n"))
    assert int(params["octets"]) == unlogged
    assert int(params["lines"]) == raw.count(b"\r\n") - (logged.count(b"\r\n") - 2)


# -- authentication ------------------------------------------------------------------------


def test_greeting_timestamp_comes_from_the_injected_ids_and_clock() -> None:
    store = new_store()
    session = Pop3Session(store, session_id="s", config=SessionConfig(hostname=store.domain))
    session.start()
    assert session.data_to_send() == b"+OK mailsim POP3 server ready <E0001.1790000000@mailsim.test>\r\n"


def test_apop_digest_matches_rfc_1939_example() -> None:
    # RFC 1939 §7: the example's shared secret "tanstaaf".
    timestamp = "<1896.697170952@dbc.mtview.ca.us>"
    assert apop_digest(timestamp, "tanstaaf") == "c4c9334bac560ecc979e58001b3e22fb"
    assert apop_digest(timestamp, "x") == hashlib.md5((timestamp + "x").encode()).hexdigest()


def test_auth_failure_asks_the_transport_for_a_delay() -> None:
    store = new_store()
    session = new_session(store)
    say(session, "USER alice")
    assert say(session, "PASS nope").startswith(b"-ERR [AUTH]")
    assert session.take_delay() == SessionConfig().auth_failure_delay
    assert session.take_delay() == 0.0
    assert say(session, "PASS wonderland") == b"-ERR Send USER first\r\n"


def test_cram_md5_through_the_engine() -> None:
    import hmac

    session = new_session(new_store())
    challenge = say(session, "AUTH CRAM-MD5")
    assert challenge.startswith(b"+ ")
    nonce = base64.b64decode(challenge[2:].strip())
    digest = hmac.new(b"builder", nonce, "md5").hexdigest()
    reply = say(session, base64.b64encode(f"bob {digest}".encode()).decode())
    assert reply.startswith(b"+OK bob's maildrop has 4 messages")
    assert session.state is S.TRANSACTION


# -- endings -------------------------------------------------------------------------------


def test_idle_timeout_closes_silently_and_removes_nothing() -> None:
    store = new_store()
    session = logged_in(store)
    say(session, "DELE 1")
    session.events()
    session.receive_timeout()
    assert session.data_to_send() == b""  # RFC 1939 §3: no response
    assert session.closed
    assert len(store.mailbox("alice", "INBOX").messages) == 7
    assert store.lock_holder("alice") is None
    events = session.events()
    assert [e for e in events if isinstance(e, DeletionMarked)] == [
        DeletionMarked("test-pop3-1", 1_790_000_000.0, "alice", 1, False)
    ]
    assert isinstance(events[-1], Closed)


def test_shutdown_says_so_and_removes_nothing() -> None:
    store = new_store()
    session = logged_in(store)
    say(session, "DELE 2")
    session.shutdown()
    assert session.data_to_send() == b"-ERR [SYS/TEMP] Server shutting down, nothing was removed\r\n"
    assert len(store.mailbox("alice", "INBOX").messages) == 7


def test_refused_busy_connection_gets_sys_temp() -> None:
    store = new_store()
    session = Pop3Session(store, session_id="busy")
    session.refuse_busy()
    assert session.data_to_send() == b"-ERR [SYS/TEMP] Too many connections, try again later\r\n"
    assert session.closed


def test_update_removes_marked_messages_even_if_some_vanished_meanwhile() -> None:
    store = new_store()
    session = logged_in(store)
    say(session, "DELE 1")
    say(session, "DELE 2")
    store.expunge("alice", "INBOX", [2, 3], origin="imap")
    assert say(session, "STAT").startswith(b"+OK 4 ")
    assert say(session, "QUIT") == b"+OK mailsim POP3 server signing off (4 messages left)\r\n"
    assert [m.uid for m in store.mailbox("alice", "INBOX").messages] == [4, 5, 6, 7]
    notes = [dict(n.params) for n in session.events() if isinstance(n, Note) and n.key == "pop3.update"]
    assert notes == [{"removed": "1"}]


def test_same_input_gives_the_same_bytes() -> None:
    def run() -> bytes:
        session = Pop3Session(new_store(), session_id="det")
        session.start()
        for line in ("CAPA", "APOP bob 00000000000000000000000000000000", "USER bob", "PASS builder",
                     "STAT", "LIST", "UIDL", "TOP 2 3", "RETR 4", "DELE 1", "RSET", "QUIT"):
            session.receive_data(line.encode() + b"\r\n")
        return session.data_to_send()

    assert run() == run()


def test_events_survive_a_transcript_round_trip() -> None:
    session = logged_in(new_store())
    say(session, "DELE 3")
    say(session, "RSET")
    for event in session.events():
        assert event_from_record(event.to_record()) == event
