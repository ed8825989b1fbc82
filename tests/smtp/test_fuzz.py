"""Bad input never crashes an SMTP session: random and mutated command lines in any
state are answered by the command's own reply, never by the catch-all 451 4.3.0
"local error" (the oracle), and the session still answers RSET/NOOP afterwards."""

from __future__ import annotations

from fuzz_oracle import assert_no_server_bug, dialogs
from hypothesis import HealthCheck, given, settings

from mailsim.clock import FixedClock, SequentialIds
from mailsim.protocol.base import SessionConfig
from mailsim.protocol.smtp import SmtpSession
from mailsim.store.world import build_store

VALID = [
    b"EHLO client.example",
    b"HELO client.example",
    b"MAIL FROM:<alice@mailsim.test> SIZE=100 BODY=8BITMIME",
    b"MAIL FROM:<> SMTPUTF8",
    b"RCPT TO:<bob@mailsim.test>",
    b"RCPT TO:<someone@elsewhere.example>",
    b"RCPT TO:<postmaster>",
    b"DATA",
    b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=",
    b"AUTH LOGIN",
    b"AUTH CRAM-MD5",
    b"VRFY bob",
    b"HELP RCPT",
    b"RSET",
    b"NOOP",
    b"Subject: hi",
    b".",
    b"..leading dot",
]
WORDS = [
    b"<", b">", b":", b"@", b"=", b" ", b"\t", b"\r", b"\n", b".", b"\x00", b"\xff", b"\xc3\xa9", b"FROM:",
    b"TO:", b"SIZE=", b"SIZE=99999999999999999999", b"BODY=", b"AUTH=<>", b"*", b"=", b"-", b"0", b"A" * 600,
]

DIALOGS = dialogs(VALID, WORDS, reach=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DIALOGS)
def test_mutated_dialogs_are_answered(sent: bytes) -> None:
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    session = SmtpSession(
        store, session_id="fuzz", config=SessionConfig(hostname=store.domain, auth_failure_delay=0, max_errors=1000)
    )
    session.start()
    session.receive_data(sent)
    # End whatever is open (DATA, an AUTH exchange), then ask for a fresh start.
    session.receive_data(b"\r\n.\r\n*\r\nRSET\r\nNOOP\r\n")
    out = session.data_to_send()
    assert_no_server_bug(session.events(), sent)
    if not session.closed:
        assert out.endswith(b"250 2.0.0 Ok\r\n"), out[-200:]


def test_a_handler_bug_is_451_4_3_0_and_the_oracle_sees_it(monkeypatch) -> None:
    def broken(self, argument):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(SmtpSession, "_vrfy", broken)
    session = SmtpSession(build_store(), session_id="bug")
    session.start()
    session.receive_data(b"VRFY bob\r\nNOOP\r\n")
    out = session.data_to_send()
    assert b"451 4.3.0 Local error in processing VRFY; the session goes on\r\n250 2.0.0 Ok\r\n" in out
    try:
        assert_no_server_bug(session.events(), b"VRFY bob")
    except AssertionError as caught:
        assert "planted" not in str(caught) and "VRFY" in str(caught)
    else:
        raise AssertionError("the oracle missed a handler bug")
