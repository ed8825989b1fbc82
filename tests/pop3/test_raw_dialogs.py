"""POP3 dialogs over a bare socket: every error path and state violation gets its
`-ERR`, the session survives it, and junk never crashes anything."""

from __future__ import annotations

import base64
import socket
import time

import pytest

from mailsim.events import Closed, Note, Reply

from .conftest import Pop3Servers, RawClient

pytestmark = pytest.mark.network

LOGIN = ("USER alice", "PASS wonderland")


def open_session(servers: Pop3Servers, *setup: str) -> RawClient:
    client = servers.raw()
    assert client.line().startswith(b"+OK mailsim POP3 server ready <")
    for line in setup:
        assert client.command(line).startswith(b"+OK"), line
    return client


# (commands that bring the session to the right state, command, expected reply)
ERROR_DIALOGS = [
    ((), "STAT", b"-ERR STAT is valid only after login, in TRANSACTION state"),
    ((), "LIST", b"-ERR LIST is valid only after login"),
    ((), "RETR 1", b"-ERR RETR is valid only after login"),
    ((), "DELE 1", b"-ERR DELE is valid only after login"),
    ((), "NOOP", b"-ERR NOOP is valid only after login"),
    ((), "RSET", b"-ERR RSET is valid only after login"),
    ((), "UIDL", b"-ERR UIDL is valid only after login"),
    ((), "TOP 1 1", b"-ERR TOP is valid only after login"),
    (LOGIN, "USER bob", b"-ERR Already logged in: USER is valid only in AUTHORIZATION state"),
    (LOGIN, "PASS builder", b"-ERR Already logged in: PASS"),
    (LOGIN, "APOP bob 0123456789abcdef0123456789abcdef", b"-ERR Already logged in: APOP"),
    (LOGIN, "AUTH PLAIN", b"-ERR Already logged in: AUTH"),
    ((), "PASS wonderland", b"-ERR Send USER first"),
    ((), "USER", b"-ERR Syntax: USER <name>"),
    ((), "USER two words", b"-ERR Syntax: USER <name>"),
    (("USER alice",), "PASS", b"-ERR Syntax: PASS <password>"),
    ((), "APOP alice", b"-ERR Syntax: APOP <name>"),
    ((), "APOP alice nothex", b"-ERR Syntax: APOP <name>"),
    ((), "AUTH DIGEST-MD5", b"-ERR Unsupported SASL mechanism DIGEST-MD5"),
    ((), "HELO there", b"-ERR Unknown command: HELO"),
    ((), "", b"-ERR Unknown command: (empty line)"),
    ((), "LAST", b"-ERR LAST is not implemented: RFC 1939 removed it"),
    ((), "CAPA please", b"-ERR Syntax: CAPA"),
    (LOGIN, "RETR", b"-ERR Syntax: RETR <msg>"),
    (LOGIN, "RETR one", b"-ERR Syntax: RETR <msg>"),
    (LOGIN, "RETR -1", b"-ERR Syntax: RETR <msg>"),
    (LOGIN, "RETR 1 2", b"-ERR Syntax: RETR <msg>"),
    (LOGIN, "RETR 0", b"-ERR No such message, only 7 messages in maildrop"),
    (LOGIN, "RETR 8", b"-ERR No such message, only 7 messages in maildrop"),
    (LOGIN, "RETR \xb2", b"-ERR Syntax: RETR <msg>"),  # a Unicode digit is not a number
    (LOGIN, "LIST 99", b"-ERR No such message"),
    (LOGIN, "UIDL x", b"-ERR Syntax: UIDL [msg]"),
    (LOGIN, "TOP 1", b"-ERR Syntax: TOP <msg> <lines>"),
    (LOGIN, "TOP 1 -2", b"-ERR Syntax: TOP <msg> <lines>"),
    (LOGIN, "TOP 9 1", b"-ERR No such message"),
    (LOGIN, "DELE", b"-ERR Syntax: DELE <msg>"),
    (LOGIN, "STAT 1", b"-ERR Syntax: STAT"),
    (LOGIN, "NOOP now", b"-ERR Syntax: NOOP"),
    (LOGIN, "RSET all", b"-ERR Syntax: RSET"),
    (LOGIN + ("DELE 2",), "DELE 2", b"-ERR Message 2 already deleted"),
    (LOGIN + ("DELE 2",), "RETR 2", b"-ERR Message 2 already deleted"),
    (LOGIN + ("DELE 2",), "TOP 2 0", b"-ERR Message 2 already deleted"),
    (LOGIN + ("DELE 2",), "UIDL 2", b"-ERR Message 2 already deleted"),
]


@pytest.mark.parametrize("setup, line, expected", ERROR_DIALOGS, ids=[d[1] or "empty" for d in ERROR_DIALOGS])
def test_error_path_answers_err_and_the_session_goes_on(
    pop3_servers: Pop3Servers, setup: tuple[str, ...], line: str, expected: bytes
) -> None:
    with open_session(pop3_servers, *setup) as client:
        reply = client.command(line)
        assert reply.startswith(expected), reply
        assert reply.endswith(b"\r\n")
        # Still alive, still in the same state.
        assert client.command("CAPA") == b"+OK Capability list follows\r\n"
        client.multiline()
        assert client.command("QUIT").startswith(b"+OK")
    replies = pop3_servers.events_of(Reply)
    failed = [r for r in replies if r.code == "-ERR"]
    assert failed and failed[0].key  # every -ERR names its explanation


def test_wrong_state_is_explained_with_a_note(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        client.command("RETR 1")
        client.command("QUIT")
    notes = [n for n in pop3_servers.events_of(Note) if n.key == "pop3.wrong-state"]
    assert notes and dict(notes[0].params) == {"verb": "RETR", "state": "AUTHORIZATION"}


def test_commands_are_case_insensitive_and_lf_alone_is_tolerated(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        assert client.command("user alice").startswith(b"+OK")
        client.send(b"pass wonderland\n")
        assert client.line().startswith(b"+OK alice's maildrop has 7 messages")
        assert client.command("stat").startswith(b"+OK 7 ")


def test_pipelined_commands_are_answered_in_order(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        client.send(b"USER alice\r\nPASS wonderland\r\nSTAT\r\nLIST 2\r\nUIDL 2\r\nNOOP\r\nQUIT\r\n")
        replies = [client.line() for _ in range(7)]
        assert [r.split(b" ")[0].strip() for r in replies] == [b"+OK"] * 7
        assert replies[3] == b"+OK 2 1063\r\n"
        assert replies[6].startswith(b"+OK mailsim POP3 server signing off")
        assert client.at_eof()


def test_line_too_long_is_refused_and_the_session_survives(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        client.send(b"USER " + b"a" * 5000 + b"\r\n")
        assert client.line() == b"-ERR Line too long (limit 512 octets)\r\n"
        client.send(b"X" * 100_000)  # a flood with no line end yet ...
        client.send(b"\r\nNOOP\r\n")  # ... then its end
        assert client.line().startswith(b"-ERR Line too long")
        assert client.line().startswith(b"-ERR NOOP is valid only after login")
        assert client.command("USER alice").startswith(b"+OK")


def test_binary_junk_is_refused(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        client.send(b"\xff\xfe\x00\x01garbage\r\n")
        assert client.line() == b"-ERR Command line is not text\r\n"
        client.send(b"US\x00ER alice\r\n")
        assert client.line() == b"-ERR Command line is not text\r\n"
        assert client.command("USER alice").startswith(b"+OK")


def test_too_many_errors_closes_the_connection(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        for _ in range(9):
            assert client.command("BOGUS").startswith(b"-ERR Unknown command")
        client.send("BOGUS")
        assert client.line().startswith(b"-ERR Unknown command")
        assert client.line() == b"-ERR Too many errors, closing connection\r\n"
        assert client.at_eof()


def test_quit_in_authorization_does_not_enter_update(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers, "USER alice") as client:
        assert client.command("QUIT") == b"+OK mailsim POP3 server signing off\r\n"
        assert client.at_eof()
    assert not [e for e in pop3_servers.events if getattr(e, "new", "") == "update"]


def test_auth_plain_with_initial_response(pop3_servers: Pop3Servers) -> None:
    token = base64.b64encode(b"\0alice\0wonderland").decode()
    with open_session(pop3_servers) as client:
        assert client.command(f"AUTH PLAIN {token}").startswith(b"+OK alice's maildrop")


def test_auth_login_exchange(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        assert client.command("AUTH LOGIN") == b"+ VXNlcm5hbWU6\r\n"  # "Username:"
        assert client.command(base64.b64encode(b"bob").decode()) == b"+ UGFzc3dvcmQ6\r\n"
        assert client.command(base64.b64encode(b"builder").decode()).startswith(b"+OK bob's maildrop")


def test_auth_plain_empty_challenge_is_plus_space(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        assert client.command("AUTH PLAIN") == b"+ \r\n"
        assert client.command(base64.b64encode(b"\0bob\0nope").decode()).startswith(b"-ERR [AUTH]")


def test_auth_cancelled_and_bad_base64(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        client.command("AUTH PLAIN")
        assert client.command("*") == b"-ERR AUTH cancelled\r\n"
        client.command("AUTH LOGIN")
        assert client.command("not base64 !!") == b"-ERR Cannot decode response: not base64\r\n"
        assert client.command("USER alice").startswith(b"+OK")  # back in AUTHORIZATION


def test_bare_auth_lists_the_mechanisms(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers) as client:
        assert client.command("AUTH") == b"+OK SASL mechanisms follow\r\n"
        assert client.multiline() == [b"PLAIN\r\n", b"LOGIN\r\n", b"CRAM-MD5\r\n"]


def test_lock_refusal_over_raw_socket(pop3_servers: Pop3Servers) -> None:
    with open_session(pop3_servers, *LOGIN) as holder, open_session(pop3_servers, "USER alice") as other:
        assert other.command("PASS wonderland") == (
            b"-ERR [IN-USE] Maildrop of alice is locked by another session\r\n"
        )
        assert holder.command("QUIT").startswith(b"+OK")
        assert holder.at_eof()
        assert other.command("USER alice").startswith(b"+OK")
        assert other.command("PASS wonderland").startswith(b"+OK")


def test_vanishing_client_with_marked_messages_removes_nothing(pop3_servers: Pop3Servers) -> None:
    before = pop3_servers.inbox_uids("alice")
    client = open_session(pop3_servers, *LOGIN, "DELE 1", "DELE 2", "DELE 7")
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()  # RST, no QUIT
    deadline = time.monotonic() + 5
    while not pop3_servers.events_of(Closed):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert pop3_servers.inbox_uids("alice") == before
    assert pop3_servers.call(pop3_servers.store.lock_holder, "alice") is None
    notes = [n for n in pop3_servers.events_of(Note) if n.key == "pop3.nothing-removed"]
    assert dict(notes[0].params) == {"count": "3"}


def test_retr_byte_stuffs_and_terminates(pop3_servers: Pop3Servers) -> None:
    raw = b"Subject: dots\r\n\r\n.starts with a dot\r\n..two\r\n.\r\nend\r\n"
    pop3_servers.call(pop3_servers.store.append, "bob", "INBOX", raw)
    with open_session(pop3_servers, "USER bob", "PASS builder") as client:
        assert client.command("RETR 5") == f"+OK {len(raw)} octets\r\n".encode()
        assert client.multiline() == [
            b"Subject: dots\r\n", b"\r\n", b"..starts with a dot\r\n", b"...two\r\n", b"..\r\n", b"end\r\n"
        ]
        assert client.command("TOP 5 1") == b"+OK Top of message 5 follows\r\n"
        assert client.multiline() == [b"Subject: dots\r\n", b"\r\n", b"..starts with a dot\r\n"]
