"""Raw dialogs: the exact bytes a misbehaving client sends, and the exact answer."""

from __future__ import annotations

import socket

from running_servers import start_servers

from mailsim.events import Protocol
from mailsim.store.model import INBOX

from .conftest import RawClient


def test_greeting_names_capabilities(raw):
    assert raw.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 ")


def test_bad_syntax_names_the_problem(logged_in):
    assert logged_in.command('a1 LOGIN "alice')[-1] == b"a1 BAD LOGIN is not allowed in state authenticated; already logged in"
    assert logged_in.command("a2 SELECT")[-1] == b'a2 BAD SELECT: expected a space at end of line'
    assert logged_in.command("a3 FROB")[-1] == b"a3 BAD Unknown command FROB"
    assert logged_in.command('a4 STATUS INBOX (MESSAGES BOGUS)')[-1].startswith(b"a4 BAD STATUS: unknown STATUS item BOGUS")
    assert logged_in.command('a5 CREATE "unterminated')[-1] == b"a5 BAD CREATE: unterminated quoted string"
    logged_in.command("s SELECT INBOX")
    assert logged_in.command("a6 UID FROB 1")[-1] == b"a6 BAD UID: expected FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE after UID, not FROB"


def test_empty_line_and_missing_tag(raw):
    assert raw.command(b"", tag="*")[-1].startswith(b"* BAD Empty command line")
    raw.send(b"+plus CAPABILITY\r\n")
    assert raw.read_line().startswith(b"* BAD missing tag")


def test_wrong_state(raw):
    assert raw.command("a1 FETCH 1 FLAGS")[-1] == (
        b"a1 BAD FETCH is not allowed in state not authenticated; log in first (LOGIN user password)"
    )
    raw.command("a2 LOGIN alice wonderland")
    assert raw.command("a3 FETCH 1 FLAGS")[-1] == (
        b"a3 BAD FETCH is not allowed in state authenticated; open a mailbox first (SELECT INBOX)"
    )
    assert raw.command("a4 LOGIN alice wonderland")[-1].startswith(b"a4 BAD LOGIN is not allowed in state authenticated")


def test_no_failures(logged_in):
    assert logged_in.command("a1 SELECT Nowhere")[-1] == b'a1 NO [NONEXISTENT] Mailbox does not exist: "Nowhere"'
    assert logged_in.command("a2 CREATE INBOX")[-1].startswith(b"a2 NO [ALREADYEXISTS]")
    assert logged_in.command("a3 DELETE INBOX")[-1] == b"a3 NO [CANNOT] INBOX cannot be deleted"
    assert logged_in.command("a4 EXAMINE INBOX")[-1] == b"a4 OK [READ-ONLY] EXAMINE completed"
    assert logged_in.command("a5 EXPUNGE")[-1].startswith(b"a5 NO [READ-ONLY]")


def test_failed_select_leaves_selected_state(logged_in):
    logged_in.command("a1 SELECT INBOX")
    logged_in.command("a2 SELECT Nowhere")
    assert logged_in.command("a3 FETCH 1 FLAGS")[-1].startswith(b"a3 BAD FETCH is not allowed in state authenticated")


def test_invalid_sequence_sets(logged_in):
    logged_in.command("s SELECT INBOX")
    assert logged_in.command("a1 FETCH 0 FLAGS")[-1] == (
        b"a1 BAD FETCH: invalid sequence set: message numbers start at 1, 0 is not allowed"
    )
    assert logged_in.command("a2 FETCH 99 FLAGS")[-1] == (
        b"a2 BAD Invalid message sequence number 99: the mailbox has 7 messages"
    )
    assert logged_in.command("a3 FETCH 1:x FLAGS")[-1].startswith(b"a3 BAD FETCH: invalid sequence set at \"x FLAGS\"")
    assert logged_in.command("a4 FETCH 1,,2 FLAGS")[-1].startswith(b"a4 BAD FETCH: invalid sequence set")
    assert logged_in.command("a5 FETCH 4294967296 FLAGS")[-1].startswith(b"a5 BAD FETCH: a message number 4294967296")
    # UIDs beyond the last one are simply not there: no error, no data.
    assert logged_in.command("a6 UID FETCH 100:200 FLAGS") == [b"a6 OK UID FETCH completed"]


def test_synchronizing_literal(logged_in):
    logged_in.send(b"a1 CREATE {11}\r\n")
    assert logged_in.read_line() == b"+ Ready for 11 octets of literal data"
    logged_in.send(b"Litera&AOk-")  # no CRLF yet: the command goes on after the literal
    logged_in.send(b"\r\n")
    assert logged_in.until_tagged("a1")[-1] == b"a1 OK CREATE completed"
    assert any(b'"Litera&AOk-"' in line for line in logged_in.command('a2 LIST "" Litera*'))


def test_8bit_mailbox_names_are_refused(logged_in):
    """IMAP4rev1 mailbox names are 7-bit; 'é' travels as modified UTF-7 (RFC 3501 §5.1.3)."""
    logged_in.send(b"a1 CREATE {8}\r\n")
    assert logged_in.read_line() == b"+ Ready for 8 octets of literal data"
    logged_in.send(b"Litera\xc3\xa9\r\n")
    reply = logged_in.until_tagged("a1")[-1]
    assert reply.startswith(b"a1 BAD CREATE: mailbox name") and b"modified UTF-7" in reply
    assert logged_in.command('a2 SELECT "Espa\xc3\xb1a"')[-1].startswith(b"a2 BAD SELECT: mailbox name")
    assert all(b"Litera" not in line for line in logged_in.command('a3 LIST "" *'))


def test_non_synchronizing_literal(logged_in):
    message = b"Subject: plus\r\n\r\nhi\r\n"
    logged_in.send(b"a1 APPEND INBOX {%d+}\r\n" % len(message) + message + b"\r\n")
    assert logged_in.until_tagged("a1")[-1].startswith(b"a1 OK [APPENDUID ")


def test_literal_of_4_gb_is_refused_before_reading(logged_in):
    logged_in.send(b"a1 APPEND INBOX {4294967296}\r\n")
    assert logged_in.read_line() == (
        b"a1 NO [TOOBIG] Literal of 4294967296 octets exceeds the limit of 26214400"
    )
    assert logged_in.command("a2 NOOP")[-1] == b"a2 OK NOOP completed"


def test_non_synchronizing_literal_too_big_closes(logged_in):
    logged_in.send(b"a1 APPEND INBOX {4294967296+}\r\n" + b"x" * 1000)
    assert logged_in.read_line().startswith(b"a1 BAD Non-synchronizing literal of 4294967296 octets")
    assert logged_in.read_line().startswith(b"* BYE ")
    assert logged_in.closed()


def test_literal_refused_in_wrong_state(raw):
    raw.send(b"a1 APPEND INBOX {5}\r\n")
    assert raw.read_line().startswith(b"a1 BAD APPEND is not allowed in state not authenticated")


def test_unterminated_literal_then_disconnect_stores_nothing(logged_in, servers):
    before = servers.call(lambda: len(servers.store.mailbox("alice", INBOX).messages))
    logged_in.send(b"a1 APPEND INBOX {100}\r\n")
    assert logged_in.read_line().startswith(b"+ ")
    logged_in.send(b"only part of it")
    logged_in.sock.shutdown(socket.SHUT_WR)
    assert logged_in.closed()
    assert servers.call(lambda: len(servers.store.mailbox("alice", INBOX).messages)) == before


def test_thousand_nested_parentheses(logged_in):
    logged_in.command("s SELECT INBOX")
    line = b"a1 SEARCH " + b"(" * 1000 + b"ALL" + b")" * 1000
    assert logged_in.command(line)[-1] == b"a1 BAD SEARCH: parentheses nested deeper than 64 levels"
    deep_not = b"a2 SEARCH " + b"NOT " * 1000 + b"ALL"
    assert logged_in.command(deep_not)[-1] == b"a2 BAD SEARCH: search keys nested deeper than 64 levels"
    assert logged_in.command("a3 SEARCH ((ALL))")[-1] == b"a3 OK SEARCH completed"


def test_line_too_long(logged_in):
    logged_in.send(b"a1 NOOP " + b"x" * 70000 + b"\r\n")
    assert logged_in.read_line() == b"* BAD Command line too long (limit 65536 octets)"
    assert logged_in.command("a2 NOOP")[-1] == b"a2 OK NOOP completed"


def test_control_characters(logged_in):
    assert logged_in.command(b"a1 NOOP \x00\x01")[-1] == b"a1 BAD Command line contains NUL or other control characters"


def test_sasl_ir_and_cancel(raw):
    raw.send(b"a1 AUTHENTICATE PLAIN\r\n")
    assert raw.read_line() == b"+ "
    raw.send(b"*\r\n")
    assert raw.read_line() == b"a1 BAD AUTHENTICATE cancelled"
    assert raw.command("a2 AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=")[-1].startswith(b"a2 OK [CAPABILITY")


def test_idle_done_and_bad_line(logged_in):
    logged_in.command("s SELECT INBOX")
    logged_in.send(b"a1 IDLE\r\n")
    assert logged_in.read_line() == b"+ idling"
    logged_in.send(b"DONE\r\n")
    assert logged_in.read_line() == b"a1 OK IDLE terminated"
    logged_in.send(b"a2 IDLE\r\n")
    logged_in.read_line()
    logged_in.send(b"NOOP\r\n")
    assert logged_in.read_line() == b"a2 BAD Expected DONE to end IDLE"


def test_starttls_is_explained(raw):
    assert raw.command("a1 STARTTLS")[-1].startswith(b"a1 BAD STARTTLS is not offered")


def test_too_many_bad_commands_hang_up(raw):
    for number in range(19):
        raw.command(f"a{number} FROB")
    raw.send(b"last FROB\r\n")
    assert raw.read_line() == b"last BAD Unknown command FROB"
    assert raw.read_line() == b"* BYE Too many invalid commands"
    assert raw.closed()


def test_logout(logged_in):
    lines = logged_in.command("a1 LOGOUT")
    assert lines[0].startswith(b"* BYE ") and lines[-1] == b"a1 OK LOGOUT completed"
    assert logged_in.closed()


def test_lsub_percent_shows_unsubscribed_parent_as_noselect(logged_in):
    logged_in.command("a1 UNSUBSCRIBE Archive")
    lines = logged_in.command('a2 LSUB "" %')
    assert b'* LSUB (\\Noselect) "/" "Archive"' in lines
    assert all(b"Archive/2025" not in line for line in lines)
    lines = logged_in.command('a3 LSUB "" *')
    assert b'* LSUB (\\HasNoChildren) "/" "Archive/2025"' in lines


def test_autologout_over_tcp(store):
    for running in start_servers(store, idle_timeout=0.3):
        client = RawClient(running.ports[Protocol.IMAP])
        client.command("a1 LOGIN alice wonderland")
        assert client.read_line() == b"* BYE Autologout; idle for too long"
        assert client.closed()
        client.close()
