"""POP3 against Python's poplib over real sockets: the whole RFC 1939 command set,
UPDATE semantics, the maildrop lock, and a round trip from smtplib."""

from __future__ import annotations

import poplib
import smtplib
import socket
import time
from pathlib import Path

import pytest

from mailsim.events import DeletionMarked, Note, StateChanged
from mailsim.store.maildir import attach_maildir

from .conftest import AUTH_FAILURE_DELAY, Pop3Servers, deterministic_store, run_servers

pytestmark = pytest.mark.network


def connect(servers: Pop3Servers, user: str = "alice", password: str = "wonderland") -> poplib.POP3:
    client = poplib.POP3("127.0.0.1", servers.pop3, timeout=5)
    client.user(user)
    client.pass_(password)
    return client


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def test_greeting_carries_an_apop_timestamp(pop3_servers: Pop3Servers) -> None:
    client = poplib.POP3("127.0.0.1", pop3_servers.pop3, timeout=5)
    welcome = client.getwelcome()
    assert welcome.startswith(b"+OK ")
    assert welcome.endswith(b"@mailsim.test>")
    assert b"<P" in welcome  # from the store's injected ids
    client.quit()


def test_capa_lists_the_rfc_2449_capabilities(pop3_servers: Pop3Servers) -> None:
    client = poplib.POP3("127.0.0.1", pop3_servers.pop3, timeout=5)
    capabilities = client.capa()
    for name in ("TOP", "USER", "UIDL", "RESP-CODES", "PIPELINING", "IMPLEMENTATION"):
        assert name in capabilities
    assert capabilities["SASL"] == ["PLAIN", "LOGIN", "CRAM-MD5"]
    client.quit()


def test_stat_list_and_retr_sizes_agree_with_the_store(pop3_servers: Pop3Servers) -> None:
    raws = pop3_servers.call(lambda: [m.raw for m in pop3_servers.store.mailbox("alice", "INBOX").messages])
    client = connect(pop3_servers)
    count, total = client.stat()
    assert count == len(raws) == 7
    assert total == sum(len(raw) for raw in raws)
    _, listing, _ = client.list()
    sizes = [int(line.split()[1]) for line in listing]
    assert sizes == [len(raw) for raw in raws]
    for number, raw in enumerate(raws, start=1):
        response, lines, octets = client.retr(number)
        assert response == f"+OK {len(raw)} octets".encode()
        assert octets == len(raw)
        assert b"".join(line + b"\r\n" for line in lines) == raw
        assert client.list(number) == f"+OK {number} {len(raw)}".encode()
    client.quit()


def test_uidl_is_uidvalidity_and_uid_and_survives_a_new_session(pop3_servers: Pop3Servers) -> None:
    validity = pop3_servers.call(lambda: pop3_servers.store.mailbox("alice", "INBOX").uidvalidity)
    client = connect(pop3_servers)
    _, listing, _ = client.uidl()
    assert listing[0] == f"1 {validity}-1".encode()
    assert client.uidl(3) == f"+OK 3 {validity}-3".encode()
    client.dele(1)
    client.quit()
    client = connect(pop3_servers)
    _, listing, _ = client.uidl()
    assert listing[0] == f"1 {validity}-2".encode()  # renumbered, same unique id
    client.quit()


def test_uidl_survives_a_restart_with_maildir(tmp_path: Path) -> None:
    def uidl_once() -> list[bytes]:
        store = deterministic_store()
        attach_maildir(store, tmp_path)
        for servers in run_servers(store):
            client = connect(servers)
            _, listing, _ = client.uidl()
            client.quit()
            return listing
        raise AssertionError("unreachable")

    first = uidl_once()
    second = uidl_once()
    assert first == second and len(first) == 7


def test_top_sends_headers_blank_line_and_n_body_lines(pop3_servers: Pop3Servers) -> None:
    raw = pop3_servers.call(lambda: pop3_servers.store.mailbox("alice", "INBOX").messages[1].raw)
    head, _, body = raw.partition(b"\r\n\r\n")
    client = connect(pop3_servers)
    _, lines, _ = client.top(2, 0)
    assert lines == head.split(b"\r\n") + [b""]
    _, lines, _ = client.top(2, 3)
    assert lines == head.split(b"\r\n") + [b""] + body.split(b"\r\n")[:3]
    _, lines, _ = client.top(2, 100000)
    assert b"".join(line + b"\r\n" for line in lines) == raw
    client.quit()


def test_apop_logs_in_with_the_md5_of_timestamp_and_password(pop3_servers: Pop3Servers) -> None:
    client = poplib.POP3("127.0.0.1", pop3_servers.pop3, timeout=5)
    response = client.apop("bob", "builder")
    assert response.startswith(b"+OK bob's maildrop has 4 messages")
    client.quit()
    client = poplib.POP3("127.0.0.1", pop3_servers.pop3, timeout=5)
    started = time.monotonic()
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        client.apop("bob", "wrong")
    assert time.monotonic() - started >= AUTH_FAILURE_DELAY * 0.9
    client.quit()


def test_wrong_password_is_refused_after_a_delay(pop3_servers: Pop3Servers) -> None:
    client = poplib.POP3("127.0.0.1", pop3_servers.pop3, timeout=5)
    client.user("alice")
    started = time.monotonic()
    with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\]"):
        client.pass_("looking-glass")
    assert time.monotonic() - started >= AUTH_FAILURE_DELAY * 0.9
    # The session is still in AUTHORIZATION: start over with USER.
    client.user("alice")
    assert client.pass_("wonderland").startswith(b"+OK")
    client.quit()


def test_dele_marks_and_quit_removes(pop3_servers: Pop3Servers) -> None:
    before = pop3_servers.inbox_uids("alice")
    client = connect(pop3_servers)
    assert client.dele(2) == b"+OK Message 2 marked for deletion"
    assert client.dele(5).startswith(b"+OK")
    assert pop3_servers.inbox_uids("alice") == before  # only marked so far
    count, _ = client.stat()
    assert count == 5
    _, listing, _ = client.list()
    assert [int(line.split()[0]) for line in listing] == [1, 3, 4, 6, 7]
    with pytest.raises(poplib.error_proto, match="already deleted"):
        client.retr(2)
    assert client.quit() == b"+OK mailsim POP3 server signing off (5 messages left)"
    assert pop3_servers.inbox_uids("alice") == [uid for uid in before if uid not in (2, 5)]
    states = [(e.old, e.new) for e in pop3_servers.events_of(StateChanged)]
    assert ("transaction", "update") in states


def test_rset_takes_every_mark_back(pop3_servers: Pop3Servers) -> None:
    before = pop3_servers.inbox_uids("alice")
    client = connect(pop3_servers)
    client.dele(1)
    client.dele(2)
    assert client.rset().startswith(b"+OK Maildrop has 7 messages")
    assert client.stat()[0] == 7
    client.retr(1)
    client.quit()
    assert pop3_servers.inbox_uids("alice") == before
    marks = [(e.uid, e.marked) for e in pop3_servers.events_of(DeletionMarked)]
    assert marks == [(1, True), (2, True), (1, False), (2, False)]


def test_dropped_connection_removes_nothing(pop3_servers: Pop3Servers) -> None:
    before = pop3_servers.inbox_uids("alice")
    client = connect(pop3_servers)
    client.dele(1)
    client.dele(3)
    client.sock.shutdown(socket.SHUT_RDWR)
    client.close()
    wait_until(lambda: any(n.key == "pop3.nothing-removed" for n in pop3_servers.events_of(Note)))
    assert pop3_servers.inbox_uids("alice") == before
    marks = [(e.uid, e.marked) for e in pop3_servers.events_of(DeletionMarked)]
    assert marks == [(1, True), (3, True), (1, False), (3, False)]
    # ... and the lock went with the connection.
    connect(pop3_servers).quit()


def test_second_session_for_the_same_user_is_refused_in_use(pop3_servers: Pop3Servers) -> None:
    first = connect(pop3_servers)
    second = poplib.POP3("127.0.0.1", pop3_servers.pop3, timeout=5)
    second.user("alice")
    with pytest.raises(poplib.error_proto, match=r"-ERR \[IN-USE\]"):
        second.pass_("wonderland")
    other_user = connect(pop3_servers, "bob", "builder")  # another maildrop is free
    other_user.quit()
    first.quit()
    second.user("alice")
    assert second.pass_("wonderland").startswith(b"+OK")
    second.quit()


def test_message_sent_with_smtplib_comes_back_byte_identical(pop3_servers: Pop3Servers) -> None:
    message = (
        b"From: Bob <bob@mailsim.test>\r\n"
        b"To: Alice <alice@mailsim.test>\r\n"
        b"Subject: round trip\r\n"
        b"\r\n"
        b"First line.\r\n"
        b".A line that starts with a dot\r\n"
        b"..and one with two\r\n"
        b".\r\n"
        b"Last line, then an empty one:\r\n"
        b"\r\n"
    )
    with smtplib.SMTP("127.0.0.1", pop3_servers.smtp, timeout=5) as smtp:
        smtp.sendmail("bob@mailsim.test", ["alice@mailsim.test"], message)
    client = connect(pop3_servers)
    count, _ = client.stat()
    _, lines, octets = client.retr(count)
    client.quit()
    retrieved = b"".join(line + b"\r\n" for line in lines)
    assert retrieved.endswith(message)
    trace = retrieved[: -len(message)]
    assert trace.startswith(b"Return-Path: <bob@mailsim.test>\r\nReceived: from ")
    assert trace.count(b"\r\n") == 4 and b"for <alice@mailsim.test>" in trace
    assert octets == len(retrieved)


def test_new_mail_waits_for_the_next_session(pop3_servers: Pop3Servers) -> None:
    client = connect(pop3_servers)
    before = client.stat()
    with smtplib.SMTP("127.0.0.1", pop3_servers.smtp, timeout=5) as smtp:
        smtp.sendmail("bob@mailsim.test", ["alice@mailsim.test"], b"Subject: late\r\n\r\nhi\r\n")
    assert client.stat() == before  # the maildrop is the snapshot taken at login
    with pytest.raises(poplib.error_proto, match="No such message"):
        client.retr(8)
    client.quit()
    client = connect(pop3_servers)
    assert client.stat()[0] == before[0] + 1
    client.quit()


def test_message_expunged_elsewhere_answers_err(pop3_servers: Pop3Servers) -> None:
    client = connect(pop3_servers)
    pop3_servers.call(pop3_servers.store.expunge, "alice", "INBOX", [3], origin="tcp-imap-x")
    with pytest.raises(poplib.error_proto, match="removed by another session"):
        client.retr(3)
    count, _ = client.stat()
    assert count == 6
    assert client.retr(4)[0].startswith(b"+OK")
    client.quit()
