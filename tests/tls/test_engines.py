"""STARTTLS/STLS in the sans-IO engines: where each protocol allows it, what it answers,
that cleartext pipelined after the command is dropped, that the session forgets what
it learnt before the upgrade, and that passwords wait for TLS when the server says so."""

from __future__ import annotations

import pytest

from mailsim.events import Note, TlsStarted
from mailsim.protocol.base import SessionConfig, TlsParams
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.smtp import SmtpSession, SmtpState

HANDSHAKE = TlsParams("TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=mailsim.test", "AA:BB")


def open_session(engine, store, *, offered=True, require=False):
    config = SessionConfig(hostname=store.domain, tls_offered=offered, require_tls_for_auth=require, auth_failure_delay=0)
    session = engine(store, session_id="t-1", config=config)
    session.start()
    session.data_to_send()
    return session


def say(session, data: str) -> bytes:
    session.receive_data(data.encode())
    return session.data_to_send()


def notes(session) -> list[str]:
    return [e.key for e in session.events() if isinstance(e, Note)]


# -- SMTP (RFC 3207) ----------------------------------------------------------------------------


def test_smtp_starttls_only_after_ehlo_and_outside_a_transaction(store):
    session = open_session(SmtpSession, store)
    assert say(session, "STARTTLS\r\n") == b"503 5.5.1 Send EHLO or HELO first\r\n"
    assert b"250-STARTTLS\r\n" in say(session, "EHLO c.example\r\n")
    assert say(session, "STARTTLS now\r\n") == b"501 5.5.4 Syntax: STARTTLS (no parameters)\r\n"
    say(session, "MAIL FROM:<alice@mailsim.test>\r\n")
    assert say(session, "STARTTLS\r\n") == b"503 5.5.1 STARTTLS not allowed during a mail transaction\r\n"
    assert not session.tls_requested


def test_smtp_upgrade_drops_pipelined_input_and_forgets_ehlo(store):
    session = open_session(SmtpSession, store)
    say(session, "EHLO c.example\r\n")
    # An attacker's injection travels in the same packet as STARTTLS (CVE-2011-0411).
    out = say(session, "STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
    assert out == b"220 2.0.0 Ready to start TLS\r\n"
    assert session.tls_requested and session.state is SmtpState.CONNECTED
    assert "tls.pipelined-discarded" in notes(session)
    assert say(session, "RSET\r\n") == b""  # cleartext before the handshake: ignored
    session.tls_started(HANDSHAKE)
    [started] = [e for e in session.events() if isinstance(e, TlsStarted)]
    assert (started.version, started.fingerprint, started.implicit) == ("TLSv1.3", "AA:BB", False)
    assert say(session, "MAIL FROM:<a@b.example>\r\n") == b"503 5.5.1 Send EHLO or HELO first\r\n"
    ehlo = say(session, "EHLO c.example\r\n")
    assert b"STARTTLS" not in ehlo and b"AUTH PLAIN LOGIN CRAM-MD5" in ehlo
    assert say(session, "STARTTLS\r\n") == b"503 5.5.1 TLS already active\r\n"


def test_smtp_without_a_certificate(store):
    session = open_session(SmtpSession, store, offered=False)
    assert b"STARTTLS" not in say(session, "EHLO c.example\r\n")
    assert say(session, "STARTTLS\r\n").startswith(b"454 4.7.0 TLS not available")


def test_smtp_requires_tls_for_auth(store):
    session = open_session(SmtpSession, store, require=True)
    ehlo = say(session, "EHLO c.example\r\n")
    assert b"AUTH" not in ehlo and b"STARTTLS" in ehlo
    assert "smtp.auth-after-tls" in notes(session)
    assert say(session, "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n") == b"530 5.7.0 Must issue a STARTTLS command first\r\n"
    say(session, "STARTTLS\r\n")
    session.tls_started(HANDSHAKE)
    assert b"250-AUTH PLAIN LOGIN CRAM-MD5" in say(session, "EHLO c.example\r\n")
    assert say(session, "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n") == b"235 2.7.0 Authentication successful\r\n"


# -- POP3 (RFC 2595) --------------------------------------------------------------------------------


def test_pop3_stls_forgets_user_and_is_refused_once_logged_in(store):
    session = open_session(Pop3Session, store)
    assert say(session, "CAPA\r\n").startswith(b"+OK Capability list follows\r\nSTLS\r\n")
    say(session, "USER alice\r\n")
    assert say(session, "STLS\r\nPASS wonderland\r\n") == b"+OK Begin TLS negotiation\r\n"
    session.tls_started(HANDSHAKE)
    assert say(session, "PASS wonderland\r\n") == b"-ERR Send USER first\r\n"
    assert say(session, "STLS\r\n") == b"-ERR Command not permitted when TLS active\r\n"
    say(session, "USER alice\r\n")
    assert say(session, "PASS wonderland\r\n").startswith(b"+OK alice's maildrop")
    assert say(session, "STLS\r\n").startswith(b"-ERR Already logged in")


def test_pop3_requires_tls_for_every_login_command(store):
    session = open_session(Pop3Session, store, require=True)
    capa = say(session, "CAPA\r\n")
    assert b"STLS" in capa and b"USER" not in capa and b"SASL" not in capa
    for line in ("USER alice", "APOP alice 0123456789abcdef0123456789abcdef", "AUTH PLAIN"):
        assert say(session, line + "\r\n").startswith(b"-ERR [AUTH] Plaintext authentication disallowed")


# -- IMAP (RFC 3501 §6.2.1) ----------------------------------------------------------------------


def test_imap_starttls_only_before_login(store):
    session = open_session(ImapSession, store)
    assert b" STARTTLS " in say(session, "a0 CAPABILITY\r\n")
    assert say(session, "a1 STARTTLS\r\na2 LOGIN alice wonderland\r\n") == b"a1 OK Begin TLS negotiation now\r\n"
    assert "tls.pipelined-discarded" in notes(session)
    session.tls_started(HANDSHAKE)
    assert b"STARTTLS" not in say(session, "a3 CAPABILITY\r\n")
    assert say(session, "a4 STARTTLS\r\n") == b"a4 BAD TLS is already active\r\n"
    say(session, "a5 LOGIN alice wonderland\r\n")
    assert say(session, "a6 STARTTLS\r\n").startswith(b"a6 BAD STARTTLS is not allowed in state authenticated")


def test_imap_logindisabled(store):
    session = open_session(ImapSession, store, require=True)
    capability = say(session, "a0 CAPABILITY\r\n")
    assert b"STARTTLS LOGINDISABLED" in capability and b"AUTH=" not in capability
    assert say(session, "a1 LOGIN alice wonderland\r\n") == (
        b"a1 NO [PRIVACYREQUIRED] LOGIN is disabled on an unencrypted connection: STARTTLS first\r\n"
    )
    assert say(session, "a2 AUTHENTICATE PLAIN\r\n").startswith(b"a2 NO [PRIVACYREQUIRED] AUTHENTICATE")
    say(session, "a3 STARTTLS\r\n")
    session.tls_started(HANDSHAKE)
    assert b"LOGINDISABLED" not in say(session, "a4 CAPABILITY\r\n")
    assert say(session, "a5 LOGIN alice wonderland\r\n").startswith(b"a5 OK")


def test_implicit_tls_session_starts_secure(store):
    config = SessionConfig(hostname=store.domain, tls_offered=True, require_tls_for_auth=True)
    session = ImapSession(store, session_id="t-2", config=config)
    session.start(tls=HANDSHAKE)
    greeting = session.data_to_send()
    assert b"STARTTLS" not in greeting and b"LOGINDISABLED" not in greeting and b"AUTH=PLAIN" in greeting
    assert [e.implicit for e in session.events() if isinstance(e, TlsStarted)] == [True]


# -- SASL with an empty initial response (mutt's default) -------------------------------------


@pytest.mark.parametrize("command", ["a1 AUTHENTICATE CRAM-MD5 \r\n", "a1 AUTHENTICATE CRAM-MD5 =\r\n"])
def test_imap_authenticate_cram_md5_with_an_empty_initial_response(store, command):
    session = open_session(ImapSession, store)
    challenge = say(session, command)
    assert challenge.startswith(b"+ ") and b"BAD" not in challenge


def test_imap_authenticate_login_with_an_empty_initial_response(store):
    session = open_session(ImapSession, store)
    assert say(session, "a1 AUTHENTICATE LOGIN =\r\n") == b"+ VXNlcm5hbWU6\r\n"  # "Username:"


def test_idle_timer_during_a_handshake_is_left_to_the_handshake_timeout(store):
    session = open_session(SmtpSession, store)
    say(session, "EHLO c.example\r\n")
    say(session, "STARTTLS\r\n")
    session.receive_timeout()
    assert not session.closed and session.data_to_send() == b""
    waiting = SmtpSession(store, session_id="t-3")  # an implicit-TLS connection, not yet greeted
    waiting.receive_timeout()
    assert not waiting.closed and waiting.events() == []
