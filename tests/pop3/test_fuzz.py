"""Bad input never crashes a POP3 session: random and mutated command lines before
and after login are answered by the command's own reply, never by the catch-all
-ERR [SYS/TEMP] "local error" (the oracle), and NOOP still answers afterwards."""

from __future__ import annotations

from fuzz_oracle import assert_no_server_bug, dialogs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsim.clock import FixedClock, SequentialIds
from mailsim.protocol.base import SessionConfig
from mailsim.protocol.pop3 import Pop3Session
from mailsim.store.world import build_store

VALID = [
    b"USER bob", b"PASS builder", b"APOP bob 0123456789abcdef0123456789abcdef", b"AUTH PLAIN AGJvYgBidWlsZGVy",
    b"AUTH", b"AUTH CRAM-MD5", b"CAPA", b"STAT", b"LIST", b"LIST 2", b"UIDL 1", b"RETR 1", b"TOP 1 3",
    b"DELE 2", b"RSET", b"NOOP", b"LAST", b"*",
]
WORDS = [
    b" ", b"\t", b"\r", b"\n", b"\x00", b"\xff", b"\xc3\xa9", b"0", b"-1", b"99999999999999999999", b"1", b"=",
    b"\xd9\xa3", b"\xef\xbc\x91", b"A" * 600, b"builder", b"bob",
]

DIALOGS = dialogs(VALID, WORDS, reach=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), DIALOGS)
def test_mutated_dialogs_are_answered(logged_in: bool, sent: bytes) -> None:
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    session = Pop3Session(
        store, session_id="fuzz", config=SessionConfig(hostname=store.domain, auth_failure_delay=0, max_errors=1000)
    )
    session.start()
    if logged_in:
        session.receive_data(b"USER bob\r\nPASS builder\r\n")
    session.receive_data(sent)
    session.receive_data(b"*\r\nNOOP\r\n")  # "*" cancels an AUTH exchange that is still open
    out = session.data_to_send()
    assert_no_server_bug(session.events(), sent)
    if not session.closed:
        assert out.endswith((b"+OK\r\n", b"-ERR NOOP is valid only after login, in TRANSACTION state\r\n")), out[-200:]


def test_a_handler_bug_is_sys_temp_and_not_the_clients_error(monkeypatch) -> None:
    def broken(self, argument):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(Pop3Session, "_stat", broken)
    session = Pop3Session(build_store(), session_id="bug", config=SessionConfig(max_errors=2))
    session.start()
    session.receive_data(b"USER bob\r\nPASS builder\r\n" + b"STAT\r\n" * 3 + b"NOOP\r\n")
    out = session.data_to_send()
    assert out.count(b"-ERR [SYS/TEMP] Local error in processing STAT; the session goes on\r\n") == 3
    assert out.endswith(b"+OK\r\n") and not session.closed
