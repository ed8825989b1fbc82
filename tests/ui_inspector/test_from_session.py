"""The last message of a console session, for the inspector: DATA, RETR, FETCH."""

from __future__ import annotations

from mailsim.events import Protocol
from mailsim.protocol.registry import ENGINES
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus
from mailsim.ui.console import ConsoleConnection
from mailsim.ui.inspector.from_session import last_message
from mailsim.ui.model import SessionModel


def session(store, protocol: Protocol, lines: list[str]) -> SessionModel:
    bus = Bus()
    model = SessionModel(f"test-{protocol.value}", protocol, ENGINES[protocol])
    bus.subscribe(model.apply)
    connection = ConsoleConnection(ENGINES[protocol], store, bus, session_id=model.session_id,
                                   schedule=lambda _seconds, callback: callback())
    connection.open()
    for line in lines:
        connection.send_line(line)
    return model


def test_smtp_data_undoes_dot_stuffing() -> None:
    store = build_store()
    model = session(store, Protocol.SMTP, [
        "EHLO x", "MAIL FROM:<a@x.test>", "RCPT TO:<bob@mailsim.test>", "DATA",
        "Subject: hi", "", "..leading dot", ".", "QUIT",
    ])
    assert last_message(Protocol.SMTP, model.lines) == b"Subject: hi\r\n\r\n.leading dot\r\n"
    assert store.mailbox("bob", "INBOX").messages[-1].raw.endswith(b"\r\n.leading dot\r\n")


def test_smtp_without_data_has_no_message() -> None:
    model = session(build_store(), Protocol.SMTP, ["EHLO x", "DATA"])
    assert last_message(Protocol.SMTP, model.lines) is None


def test_pop3_retr_gives_the_stored_bytes() -> None:
    store = build_store()
    model = session(store, Protocol.POP3, ["USER alice", "PASS wonderland", "RETR 3", "QUIT"])
    assert last_message(Protocol.POP3, model.lines) == store.mailbox("alice", "INBOX").messages[2].raw


def test_pop3_failed_retr_has_no_message() -> None:
    model = session(build_store(), Protocol.POP3, ["USER alice", "PASS wonderland", "RETR 99"])
    assert last_message(Protocol.POP3, model.lines) is None


def test_imap_fetch_literal_gives_the_stored_bytes() -> None:
    store = build_store()
    model = session(store, Protocol.IMAP, [
        "a LOGIN alice wonderland", "b SELECT INBOX", "c FETCH 1 BODY.PEEK[]", "d FETCH 3 BODY.PEEK[]",
    ])
    assert last_message(Protocol.IMAP, model.lines) == store.mailbox("alice", "INBOX").messages[2].raw
