"""The SMTP engine without sockets: bytes in, bytes and events out."""

from __future__ import annotations

import base64
import hmac

import pytest

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Closed, Delivered, Note, Reply, ReplyClass, StateChanged, event_from_record
from mailsim.protocol.base import SessionConfig
from mailsim.protocol.smtp import TRANSITIONS, SmtpReplies, SmtpSession, SmtpState
from mailsim.store.store import MailStore
from mailsim.store.world import build_store


def new_session(store: MailStore, **config) -> SmtpSession:
    session = SmtpSession(
        store,
        session_id="t-smtp-1",
        peer="192.0.2.7:40000",
        config=SessionConfig(hostname="mailsim.test", **config),
    )
    session.start()
    session.data_to_send()
    return session


def say(session: SmtpSession, text: str | bytes) -> str:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    session.receive_data(data)
    return session.data_to_send().decode("utf-8")


def codes(output: str) -> list[str]:
    """The reply codes of the last line of each reply in `output`."""
    return [line[:3] for line in output.split("\r\n") if len(line) > 3 and line[3] == " "]


@pytest.fixture
def session(store: MailStore) -> SmtpSession:
    return new_session(store)


def greeted(session: SmtpSession) -> SmtpSession:
    say(session, "EHLO client.example\r\n")
    return session


def test_greeting_is_220_with_hostname(store: MailStore) -> None:
    session = SmtpSession(store, session_id="t1")
    session.start()
    assert session.data_to_send() == b"220 mailsim.test ESMTP mailsim ready\r\n"
    assert session.state is SmtpState.CONNECTED


def test_ehlo_lists_extensions_in_multiline_reply(session: SmtpSession) -> None:
    out = say(session, "EHLO client.example\r\n")
    lines = out.split("\r\n")[:-1]
    assert lines[0] == "250-mailsim.test greets client.example"
    assert all(line.startswith("250-") for line in lines[:-1])
    assert lines[-1] == "250 HELP"
    keywords = {line[4:].split()[0] for line in lines[1:]}
    assert {"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "AUTH"} <= keywords
    assert "250-AUTH PLAIN LOGIN CRAM-MD5" in lines
    assert session.state is SmtpState.GREETED


def test_whole_transaction_delivers_with_trace_headers(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    before = len(store.mailbox("bob", "INBOX").messages)
    out = say(
        session,
        "MAIL FROM:<alice@mailsim.test>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n"
        "Subject: hi\r\n\r\n..starts with a dot\r\nend\r\n.\r\n",
    )
    assert codes(out) == ["250", "250", "354", "250"]
    assert "250 2.0.0 Ok: queued as Q" in out
    messages = store.mailbox("bob", "INBOX").messages
    assert len(messages) == before + 1
    raw = messages[-1].raw
    assert raw.startswith(b"Return-Path: <alice@mailsim.test>\r\nReceived: from client.example (192.0.2.7)\r\n")
    assert b"\tfor <bob@mailsim.test>; " in raw
    assert raw.endswith(b"Subject: hi\r\n\r\n.starts with a dot\r\nend\r\n")
    assert session.state is SmtpState.GREETED
    delivered = [e for e in session.events() if isinstance(e, Delivered)]
    assert [(d.account, d.mailbox, d.uid) for d in delivered] == [("bob", "INBOX", messages[-1].uid)]


def test_several_recipients_one_refused(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    out = say(
        session,
        "MAIL FROM:<>\r\nRCPT TO:<alice@mailsim.test>\r\nRCPT TO:<nobody@mailsim.test>\r\n"
        "RCPT TO:<BOB@MAILSIM.TEST>\r\nDATA\r\nx\r\n.\r\n",
    )
    assert codes(out) == ["250", "250", "550", "250", "354", "250"]
    assert "550 5.1.1 <nobody@mailsim.test>: no such user here" in out
    assert store.mailbox("alice", "INBOX").messages[-1].raw.startswith(b"Return-Path: <>\r\n")
    assert store.mailbox("bob", "INBOX").messages[-1].raw.endswith(b"\r\nx\r\n")


def test_postmaster_without_domain_is_accepted(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    out = say(session, "MAIL FROM:<x@remote.example>\r\nRCPT TO:<Postmaster>\r\n")
    assert codes(out) == ["250", "250"]


@pytest.mark.parametrize(
    ("setup", "command", "expected"),
    [
        ("", "MAIL FROM:<a@b.example>", "503 5.5.1 Send EHLO or HELO first"),
        ("EHLO x", "RCPT TO:<bob@mailsim.test>", "503 5.5.1 Need MAIL command first"),
        ("EHLO x", "DATA", "503 5.5.1 Need MAIL command first"),
        ("EHLO x\r\nMAIL FROM:<a@b.example>", "DATA", "503 5.5.1 Need RCPT command first"),
        ("EHLO x\r\nMAIL FROM:<a@b.example>", "MAIL FROM:<a@b.example>", "503 5.5.1 Sender already given"),
        ("EHLO x\r\nMAIL FROM:<a@b.example>", "AUTH PLAIN", "503 5.5.1 AUTH not allowed during a mail transaction"),
        ("EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@mailsim.test>", "DATA", "554 5.5.1 No valid recipients"),
    ],
)
def test_commands_out_of_sequence(session: SmtpSession, setup: str, command: str, expected: str) -> None:
    if setup:
        say(session, setup + "\r\n")
    state_before = session.state
    out = say(session, command + "\r\n")
    assert out.startswith(expected)
    assert session.state is state_before
    assert any(isinstance(e, Note) and e.key == "smtp.out-of-sequence" for e in session.events())


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("EHLO", "501 5.5.4 Syntax: EHLO <domain>"),
        ("MAIL FROM:", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL TO:<a@b.example>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        ("MAIL FROM:<not an address>", "501 5.1.3 Bad address syntax"),
        ("MAIL FROM:<a@b.example", "501 5.5.4 Syntax"),
        ("MAIL FROM:<a@b.example> COLOUR=blue", "555 5.5.4 Unsupported parameter COLOUR=blue"),
        ("MAIL FROM:<a@b.example> SIZE=999999999", "552 5.3.4 Message size exceeds fixed limit"),
        ("MAIL FROM:<josé@b.example>", "553 5.6.7"),
        ("FOO bar", "500 5.5.2 Command not recognized: FOO"),
        ("", "500 5.5.2 Command not recognized: (empty line)"),
        ("VRFY", "501 5.5.4"),
        ("VRFY bob", "252 2.0.0"),
        ("EXPN staff", "502 5.5.1 EXPN is disabled"),
        ("SEND FROM:<a@b.example>", "502 5.5.1 SEND is obsolete (RFC 5321 Appendix F): not implemented"),
        ("SOML FROM:<a@b.example>", "502 5.5.1 SOML is obsolete"),
        ("SAML FROM:<a@b.example>", "502 5.5.1 SAML is obsolete"),
        ("TURN", "502 5.5.1 TURN is obsolete"),
        ("NOOP", "250 2.0.0 Ok"),
        ("AUTH", "501 5.5.4 Syntax: AUTH"),
        ("AUTH GSSAPI", "504 5.5.4 Unrecognized authentication type GSSAPI"),
    ],
)
def test_error_replies(session: SmtpSession, command: str, expected: str) -> None:
    greeted(session)
    out = say(session, command + "\r\n")
    assert out.startswith(expected), out


def test_obsolete_commands_carry_a_teaching_note(session: SmtpSession) -> None:
    say(session, "TURN\r\n")
    notes = [e.key for e in session.events() if isinstance(e, Note)]
    assert "smtp.obsolete-turn" in notes


def test_relay_refused_unauthenticated_accepted_after_auth(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    out = say(session, "MAIL FROM:<alice@mailsim.test>\r\nRCPT TO:<carol@remote.example>\r\n")
    assert codes(out) == ["250", "554"]
    assert "554 5.7.1 <carol@remote.example>: Relay access denied" in out
    say(session, "RSET\r\n")
    token = base64.b64encode(b"\0alice\0wonderland").decode()
    assert say(session, f"AUTH PLAIN {token}\r\n").startswith("235 2.7.0")
    out = say(session, "MAIL FROM:<alice@mailsim.test>\r\nRCPT TO:<carol@remote.example>\r\nDATA\r\nhi\r\n.\r\n")
    assert codes(out) == ["250", "250", "354", "250"]
    assert [q.recipient for q in store.outgoing] == ["carol@remote.example"]
    queued = store.outgoing[0]
    assert queued.submitted_by == "alice"
    assert b"with ESMTPA id" in queued.raw and not queued.raw.startswith(b"Return-Path")


def test_auth_login_exchange(session: SmtpSession) -> None:
    greeted(session)
    assert say(session, "AUTH LOGIN\r\n") == "334 VXNlcm5hbWU6\r\n"
    assert session.state is SmtpState.AUTH
    assert say(session, base64.b64encode(b"bob").decode() + "\r\n") == "334 UGFzc3dvcmQ6\r\n"
    assert say(session, base64.b64encode(b"builder").decode() + "\r\n").startswith("235 2.7.0")
    assert session.authenticated_as == "bob"
    assert say(session, "AUTH PLAIN\r\n").startswith("503 5.5.1 Already authenticated")


def test_auth_cram_md5_challenge_response(session: SmtpSession) -> None:
    greeted(session)
    out = say(session, "AUTH CRAM-MD5\r\n")
    assert out.startswith("334 ")
    challenge = base64.b64decode(out[4:].strip())
    assert challenge.startswith(b"<") and challenge.endswith(b"@mailsim.test>")
    digest = hmac.new(b"wonderland", challenge, "md5").hexdigest()
    answer = base64.b64encode(f"alice {digest}".encode()).decode()
    assert say(session, answer + "\r\n").startswith("235 2.7.0")


def test_auth_failures(session: SmtpSession) -> None:
    greeted(session)
    bad = base64.b64encode(b"\0alice\0wrong").decode()
    assert say(session, f"AUTH PLAIN {bad}\r\n").startswith("535 5.7.8 Authentication credentials invalid")
    assert session.take_delay() > 0  # answered slowly, as real servers do
    assert say(session, "AUTH PLAIN\r\n") == "334 \r\n"
    assert say(session, "*\r\n").startswith("501 5.7.0 Authentication cancelled")
    assert say(session, "AUTH PLAIN !!notbase64\r\n").startswith("501 5.5.2")
    assert session.state is SmtpState.GREETED
    assert not session.authenticated_as


def test_auth_needs_ehlo(session: SmtpSession) -> None:
    assert say(session, "AUTH PLAIN\r\n").startswith("503 5.5.1 Send EHLO")
    say(session, "HELO client.example\r\n")
    assert say(session, "AUTH PLAIN\r\n").startswith("503 5.5.1 Send EHLO")


def test_rset_clears_the_transaction(session: SmtpSession) -> None:
    greeted(session)
    say(session, "MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@mailsim.test>\r\n")
    assert session.envelope.recipients == ["bob@mailsim.test"]
    assert say(session, "RSET\r\n") == "250 2.0.0 Ok\r\n"
    assert session.envelope.sender is None and session.state is SmtpState.GREETED


def test_helo_session_refuses_extension_parameters(session: SmtpSession) -> None:
    say(session, "HELO client.example\r\n")
    assert say(session, "MAIL FROM:<a@b.example> SIZE=10\r\n").startswith("555 5.5.4")
    assert say(session, "MAIL FROM:<a@b.example>\r\n").startswith("250")


def test_smtputf8_address_and_body(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    body = "Subject: =?utf-8?q?se=C3=B1al?=\r\n\r\nCañón y acentos: áéíóú\r\n.\r\n"
    out = say(session, "MAIL FROM:<josé@ejemplo.example> SMTPUTF8 BODY=8BITMIME\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n" + body)
    assert codes(out) == ["250", "250", "354", "250"]
    raw = store.mailbox("bob", "INBOX").messages[-1].raw
    assert "Return-Path: <josé@ejemplo.example>".encode() in raw
    assert "Cañón y acentos: áéíóú\r\n".encode() in raw
    assert b"with UTF8SMTP id" in raw


def test_pipelined_commands_answered_in_order(session: SmtpSession) -> None:
    out = say(session, "EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<alice@mailsim.test>\r\nNOOP\r\nRSET\r\n")
    assert codes(out) == ["250", "250", "250", "250", "250"]


def test_input_split_at_any_byte_gives_the_same_bytes(store: MailStore) -> None:
    script = b"EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\nx\r\n..y\r\n.\r\nQUIT\r\n"
    whole = SmtpSession(store, session_id="w", clock=FixedClock(), ids=SequentialIds("Q"))
    whole.start()
    whole.receive_data(script)
    trickle = SmtpSession(store, session_id="t", clock=FixedClock(), ids=SequentialIds("Q"))
    trickle.start()
    for byte in script:
        trickle.receive_data(bytes([byte]))
    assert whole.data_to_send() == trickle.data_to_send()


def test_same_input_same_bytes_and_events() -> None:
    """Determinism: a fresh store with the same clock and ids gives identical output."""

    def run() -> tuple[bytes, list[dict]]:
        store = build_store(clock=FixedClock(1_790_000_000.0, step=0.5), ids=SequentialIds("Q"))
        session = SmtpSession(store, session_id="d1", peer="127.0.0.1:1")
        session.start()
        session.receive_data(b"EHLO a\r\nAUTH CRAM-MD5\r\n*\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\nx\r\n.\r\n")
        raw = store.mailbox("bob", "INBOX").messages[-1].raw
        return session.data_to_send() + raw, [e.to_record() for e in session.events()]

    assert run() == run()


def test_bare_lf_dot_does_not_end_data(session: SmtpSession, store: MailStore) -> None:
    """Only CRLF.CRLF ends DATA (RFC 5321 §4.1.1.4); a bare-LF dot is message text."""
    greeted(session)
    say(session, "MAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n")
    assert say(session, b"one\n.\ntwo\r\n") == ""
    assert session.state is SmtpState.DATA
    assert say(session, b".\r\n").startswith("250")
    assert store.mailbox("bob", "INBOX").messages[-1].raw.endswith(b"one\r\n\r\ntwo\r\n")


def test_overlong_command_line_is_500_and_session_goes_on(session: SmtpSession) -> None:
    greeted(session)
    out = say(session, "NOOP " + "x" * 600 + "\r\n")
    assert out.startswith("500 5.5.2 Line too long (limit 512 octets)")
    assert say(session, "NOOP\r\n") == "250 2.0.0 Ok\r\n"


def test_flood_without_newline_is_not_buffered(session: SmtpSession) -> None:
    greeted(session)
    for _ in range(100):
        session.receive_data(b"A" * 10_000)
    assert session.reader.buffered <= 10_000 + 512
    assert say(session, b"\r\nNOOP\r\n").endswith("250 2.0.0 Ok\r\n")


def test_binary_junk_gets_500(session: SmtpSession) -> None:
    greeted(session)
    out = say(session, b"\xff\xfe\x00\x01garbage\r\n")
    assert out.startswith("500 5.5.2 Command line is not text")
    assert say(session, "NOOP\r\n") == "250 2.0.0 Ok\r\n"


def test_too_many_errors_close_with_421(store: MailStore) -> None:
    session = new_session(store, max_errors=3)
    out = say(session, "A\r\nB\r\nC\r\nNOOP\r\n")
    assert codes(out) == ["500", "500", "500", "421"]
    assert session.closed
    assert any(isinstance(e, Closed) and e.reason == "too many errors" for e in session.events())


def test_size_limit_enforced_during_data(store: MailStore) -> None:
    session = new_session(store, max_message_size=100)
    greeted(session)
    before = len(store.mailbox("bob", "INBOX").messages)
    out = say(session, "MAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n" + "y" * 60 + "\r\n" + "z" * 60 + "\r\n.\r\n")
    assert out.endswith("552 5.3.4 Message size exceeds fixed limit of 100 octets\r\n")
    assert len(store.mailbox("bob", "INBOX").messages) == before
    assert session.state is SmtpState.GREETED


def test_overlong_data_line_rejects_the_message(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    before = len(store.mailbox("bob", "INBOX").messages)
    out = say(session, "MAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n" + "L" * 1200 + "\r\n.\r\n")
    assert out.endswith("554 5.6.0 Message has a line over 1000 octets; not delivered\r\n")
    assert len(store.mailbox("bob", "INBOX").messages) == before


def test_disconnect_mid_data_delivers_nothing(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    before = len(store.mailbox("bob", "INBOX").messages)
    say(session, "MAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\nhalf a message\r\n")
    session.receive_eof()
    assert len(store.mailbox("bob", "INBOX").messages) == before
    events = session.events()
    assert any(isinstance(e, Note) and e.key == "smtp.abandoned-transaction" for e in events)
    assert isinstance(events[-1], Closed)


def test_timeout_sends_421(session: SmtpSession) -> None:
    session.receive_timeout()
    assert session.data_to_send().startswith(b"421 4.4.2 mailsim.test Error: timeout exceeded")
    assert session.closed


def test_quit_closes(session: SmtpSession) -> None:
    assert say(session, "QUIT\r\n") == "221 2.0.0 Bye\r\n"
    assert session.closed and session.state is SmtpState.CLOSED
    say(session, "NOOP\r\n")  # ignored after close, never an exception


def test_help_lists_commands_and_syntax(session: SmtpSession) -> None:
    out = say(session, "HELP\r\n")
    assert out.startswith("214-2.0.0 Commands: ")
    assert "MAIL" in out and "RCPT" in out
    assert say(session, "HELP rcpt\r\n") == "214 2.0.0 RCPT TO:<forward-path> (RFC 5321 §4.1.1.3)\r\n"


def test_state_changes_name_the_command(session: SmtpSession) -> None:
    greeted(session)
    say(session, "MAIL FROM:<a@a.example>\r\n")
    changes = [(e.old, e.new, e.command) for e in session.events() if isinstance(e, StateChanged)]
    assert changes == [("connected", "greeted", "EHLO"), ("greeted", "mail", "MAIL")]


def test_replies_carry_code_class_command_and_key(session: SmtpSession) -> None:
    greeted(session)
    say(session, "RCPT TO:<bob@mailsim.test>\r\n")
    reply = [e for e in session.events() if isinstance(e, Reply)][-1]
    assert (reply.code, reply.reply_class, reply.command, reply.enhanced, reply.key) == (
        "503", ReplyClass.PERMANENT, "RCPT", "5.5.1", "need-mail"
    )


def test_events_survive_a_json_round_trip(session: SmtpSession) -> None:
    greeted(session)
    say(session, b"MAIL FROM:<a@a.example>\r\n\xff\r\n")
    for event in session.events():
        assert event_from_record(event.to_record()) == event


def test_transition_table_is_complete() -> None:
    """Every state but CLOSED can be left; every command handler appears in the table."""
    sources = {state for state, _ in TRANSITIONS}
    assert sources == set(SmtpState) - {SmtpState.CLOSED}
    verbs = {verb for _, verb in TRANSITIONS if not verb.startswith("<")}
    assert verbs == set(SmtpSession.COMMANDS)


def test_reply_catalog_keys_are_unique() -> None:
    keys = [spec.key for spec in SmtpReplies.all()]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "chunks",
    [
        [b"a\n", b"\r\n.\r\n"],
        [b"a\n\r\n.\r\n"],
        [b"a\n\r", b"\n.", b"\r", b"\n"],
    ],
)
def test_end_of_data_after_a_bare_lf_line(session: SmtpSession, store: MailStore, chunks: list[bytes]) -> None:
    greeted(session)
    say(session, "MAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n")
    out = "".join(say(session, chunk) for chunk in chunks)
    assert out.startswith("250 2.0.0")
    assert store.mailbox("bob", "INBOX").messages[-1].raw.endswith(b"0000\r\na\r\n\r\n")


def test_data_then_pipelined_commands_in_one_packet(session: SmtpSession, store: MailStore) -> None:
    greeted(session)
    out = say(
        session,
        "MAIL FROM:<a@a.example>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\none\r\n.\r\n"
        "MAIL FROM:<b@a.example>\r\nRCPT TO:<alice@mailsim.test>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n",
    )
    assert codes(out) == ["250", "250", "354", "250", "250", "250", "354", "250", "221"]
    assert store.mailbox("bob", "INBOX").messages[-1].raw.endswith(b"\r\none\r\n")
    assert store.mailbox("alice", "INBOX").messages[-1].raw.endswith(b"\r\ntwo\r\n")
