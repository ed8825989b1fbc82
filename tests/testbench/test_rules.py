"""The client rules on conversations driven straight through the engines (no sockets):
each rule passes and fails where it should, for SMTP, POP3 and IMAP alike."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Protocol
from mailsim.protocol.registry import ENGINES
from mailsim.store.world import build_store
from mailsim.testbench.clientrules import Context, judge_conversation
from mailsim.testbench.conversation import Conversation, conversations_from_events, mask_secret
from mailsim.testbench.verdict import Status, Verdict

CONTEXT = Context(idle_timeout=7, wait=60)


def converse(protocol: Protocol, *chunks: bytes, end: str = "eof") -> Conversation:
    """Feed the client's bytes to a fresh engine session, as the TCP transport would."""
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    session = ENGINES[protocol](store, session_id=f"t-{protocol.value}", peer="127.0.0.1:5000")
    session.start()
    events = session.events()
    for chunk in chunks:
        session.receive_data(chunk)
        session.data_to_send()
        events += session.events()
    if end == "timeout":
        session.receive_timeout()
    elif not session.closed:
        session.receive_eof()
    events += session.events()
    (conversation,) = conversations_from_events(events)
    return conversation


def judged(conversation: Conversation) -> dict[str, Verdict]:
    return {v.check: v for v in judge_conversation(conversation, CONTEXT)}


def test_smtp_exchanges_pair_each_command_with_its_reply() -> None:
    c = converse(Protocol.SMTP, b"EHLO x\r\nMAIL FROM:<alice@mailsim.test>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n",
                 b"Subject: s\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    assert [(e.command, e.reply.code) for e in c.commands] == [
        ("EHLO", "250"), ("MAIL", "250"), ("RCPT", "250"), ("DATA", "354"), ("DATA", "250"), ("QUIT", "221"),
    ]
    verdicts = judged(c)
    assert {k: v.status for k, v in verdicts.items() if v.status is not Status.PASS} == {}
    assert verdicts["smtp.goal"].detail.en.startswith("The server accepted 1 message: «250 2.0.0 Ok: queued as")


def test_rcpt_after_a_refused_mail_is_an_ignored_reply() -> None:
    c = converse(Protocol.SMTP, b"EHLO x\r\nMAIL FROM:<bad address>\r\nRCPT TO:<bob@mailsim.test>\r\nQUIT\r\n")
    verdicts = judged(c)
    assert verdicts["smtp.ignored"].status is Status.FAIL
    assert "RCPT" in verdicts["smtp.ignored"].detail.en and "MAIL" in verdicts["smtp.ignored"].detail.en
    assert verdicts["smtp.syntax"].status is Status.FAIL  # the malformed MAIL itself


def test_a_second_recipient_accepted_makes_data_legitimate() -> None:
    c = converse(Protocol.SMTP, b"EHLO x\r\nMAIL FROM:<alice@mailsim.test>\r\nRCPT TO:<nobody@mailsim.test>\r\n"
                 b"RCPT TO:<bob@mailsim.test>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    assert judged(c)["smtp.ignored"].status is Status.PASS


def test_out_of_order_commands_and_the_engines_notes() -> None:
    c = converse(Protocol.SMTP, b"MAIL FROM:<alice@mailsim.test>\r\nEHLO x\r\nMAIL FROM:alice@mailsim.test\r\nQUIT\r\n")
    verdicts = judged(c)
    assert verdicts["smtp.opening"].status is Status.FAIL
    assert verdicts["smtp.opening"].detail.en == "The first command was MAIL; the protocol expects EHLO / HELO first."
    assert verdicts["smtp.order"].status is Status.FAIL
    assert "MAIL → 503" in verdicts["smtp.order"].detail.en
    note = verdicts["smtp.note.no-angle-brackets"]
    assert note.status is Status.WARN
    assert "<" in note.detail.en and note.detail.es != note.detail.en
    assert note.exchange[0] == "C: MAIL FROM:alice@mailsim.test"


def test_silence_outside_data_is_a_hanging_dialog() -> None:
    c = converse(Protocol.SMTP, b"EHLO x\r\n", end="timeout")
    verdicts = judged(c)
    assert verdicts["smtp.hanging"].status is Status.FAIL
    assert verdicts["smtp.hanging"].detail.en == (
        "The client went silent in the state «greeted» and the server gave up after 7 s "
        "(421 4.4.2 mailsim.test Error: timeout exceeded)."
    )
    assert "smtp.data-end" not in verdicts


def test_pop3_quit_is_what_deletes() -> None:
    c = converse(Protocol.POP3, b"USER alice\r\nPASS wonderland\r\nDELE 1\r\n")
    verdicts = judged(c)
    assert verdicts["pop3.closing"].status is Status.FAIL
    assert "UPDATE" in verdicts["pop3.closing"].why.en
    assert verdicts["pop3.note.nothing-removed"].status is Status.WARN
    assert verdicts["pop3.closing"].detail.es == "La conexión terminó sin QUIT (el cliente cerró la conexión)."


def test_an_imap_password_sent_as_a_literal_is_hidden() -> None:
    from mailsim.testbench.conversation import passwords

    store = build_store()
    session = ENGINES[Protocol.IMAP](store, session_id="t-lit")
    session.start()
    for chunk in (b"a1 LOGIN {5}\r\n", b"alice {10}\r\n", b"wonderland\r\n", b"a2 LOGOUT\r\n"):
        session.receive_data(chunk)
    (conversation,) = conversations_from_events(session.events(), passwords(store))
    lines = conversation.transcript()
    assert not any("wonderland" in line for line in lines)
    assert any("••••••••" in line for line in lines)


def test_imap_a_select_after_a_refused_login() -> None:
    c = converse(Protocol.IMAP, b"a1 LOGIN alice nope\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n")
    verdicts = judged(c)
    assert verdicts["imap.ignored"].status is Status.FAIL
    assert verdicts["imap.ignored"].exchange[0] == "C: a1 LOGIN alice ••••••••"
    assert verdicts["imap.goal"].status is Status.FAIL
    assert verdicts["imap.closing"].status is Status.PASS
    assert verdicts["imap.order"].status is Status.PASS  # the BAD to SELECT is the ignored NO's consequence


def test_imap_a_good_session_and_a_bad_tag() -> None:
    c = converse(Protocol.IMAP, b"a1 LOGIN alice wonderland\r\na2 SELECT INBOX\r\na3 FETCH 1 (FLAGS)\r\nFETCH\r\na4 LOGOUT\r\n")
    assert [e.command for e in c.commands][:3] == ["LOGIN", "SELECT", "FETCH"]
    verdicts = judged(c)
    assert verdicts["imap.syntax"].status is Status.FAIL
    assert verdicts["imap.goal"].status is Status.PASS
    assert verdicts["imap.closing"].detail.en == "The client sent LOGOUT and the server answered «a4 OK LOGOUT completed»."


def test_secrets_are_masked_in_reports() -> None:
    assert mask_secret("wonderland", ("wonderland",)) == "••••••••"  # an IMAP literal on its own line
    assert mask_secret("PASS wonderland") == "PASS ••••••••"
    assert mask_secret("a1 LOGIN alice wonderland") == "a1 LOGIN alice ••••••••"
    assert mask_secret("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=") == "AUTH PLAIN ••••••••"
    assert mask_secret("USER alice") == "USER alice"


def test_imap_a_reused_tag_is_a_warning() -> None:
    c = converse(Protocol.IMAP, b"a LOGIN alice wonderland\r\na SELECT INBOX\r\nb LOGOUT\r\n")
    verdicts = judged(c)
    assert verdicts["imap.tags"].status is Status.WARN
    assert verdicts["imap.tags"].detail.en == "The tag a was used by 2 commands."
    assert "§2.2.1" in verdicts["imap.tags"].rfc
    good = judged(converse(Protocol.IMAP, b"a1 LOGIN alice wonderland\r\na2 LOGOUT\r\n"))
    assert good["imap.tags"].status is Status.PASS
    assert "smtp.tags" not in judged(converse(Protocol.SMTP, b"QUIT\r\n"))


def test_a_message_without_date_or_with_a_broken_multipart_is_a_warning() -> None:
    from mailsim.testbench.requirements import judge_messages

    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    session = ENGINES[Protocol.SMTP](store, session_id="t-msg")
    session.start()
    session.receive_data(
        b"EHLO x\r\nMAIL FROM:<alice@mailsim.test>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n"
        b"From: alice@mailsim.test\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n.\r\nQUIT\r\n"
    )
    (conversation,) = conversations_from_events(session.events())
    (verdict,) = judge_messages(conversation, store)
    assert verdict.status is Status.WARN
    assert verdict.detail.en == "message 1 lacks Date, Message-ID; message 1 has MIME defects: close-boundary-not-found"
    assert "RFC 5322 §3.6" in verdict.rfc


_WORDS = st.sampled_from([
    b"EHLO x", b"HELO", b"MAIL FROM:<alice@mailsim.test>", b"RCPT TO:<bob@mailsim.test>", b"RCPT TO:<nobody@x>",
    b"DATA", b".", b"..", b"QUIT", b"RSET", b"USER alice", b"PASS wonderland", b"PASS x", b"STAT", b"RETR 1",
    b"DELE 1", b"a1 LOGIN alice wonderland", b"a2 SELECT INBOX", b"a3 FETCH 1 (FLAGS)", b"a4 LOGOUT", b"x {3}",
    b"\x00\xff", b"", b"Subject: hi",
])


@settings(max_examples=60, deadline=None)
@given(protocol=st.sampled_from(list(Protocol)), lines=st.lists(st.tuples(_WORDS, st.sampled_from([b"\r\n", b"\n"])), max_size=12),
       end=st.sampled_from(["eof", "timeout"]))
def test_any_conversation_is_judged_without_an_error(protocol: Protocol, lines, end: str) -> None:
    c = converse(protocol, *(word + eol for word, eol in lines), end=end)
    verdicts = judge_conversation(c, CONTEXT)
    assert {v.check for v in verdicts} >= {f"{protocol.value}.opening", f"{protocol.value}.closing"}
    for v in verdicts:
        assert v.title.en and v.title.es and v.detail.en and v.detail.es
        assert not re.search(r"\{[a-z_]+\}", v.detail.en + v.detail.es + v.title.en + v.title.es)  # no blank left unfilled
