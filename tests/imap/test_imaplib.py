"""Python's imaplib against the server over a real socket, across its API."""

from __future__ import annotations

import imaplib
import re
import time

import pytest


@pytest.fixture
def client(imap_port):
    connection = imaplib.IMAP4("127.0.0.1", imap_port)
    yield connection
    try:
        connection.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


@pytest.fixture
def alice(client):
    client.login("alice", "wonderland")
    return client


def test_greeting_and_capabilities(client):
    assert client.state == "NONAUTH"
    capabilities = client.capabilities
    for name in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "UNSELECT", "LITERAL+", "SPECIAL-USE"):
        assert name in capabilities
    typ, data = client.capability()
    assert typ == "OK" and b"AUTH=PLAIN" in data[0]


def test_login_and_failed_login(client, imap_port):
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        client.login("alice", "wrong")
    typ, _ = client.login("alice", "wonderland")
    assert typ == "OK" and client.state == "AUTH"


def test_authenticate_plain(client):
    typ, data = client.authenticate("PLAIN", lambda _: b"\0bob\0builder")
    assert typ == "OK" and b"Logged in as bob" in data[0]
    typ, data = client.select("INBOX")
    assert typ == "OK" and int(data[0]) == 4


def test_list_with_special_use_and_children(alice):
    typ, data = alice.list()
    assert typ == "OK"
    lines = [line.decode() for line in data]
    assert '(\\HasNoChildren) "/" "INBOX"' in lines
    assert '(\\HasChildren) "/" "Archive"' in lines
    assert '(\\HasNoChildren \\Sent) "/" "Sent"' in lines
    assert '(\\HasNoChildren \\Trash) "/" "Trash"' in lines
    typ, data = alice.list('""', "%")
    assert all("Archive/2025" not in line.decode() for line in data)
    typ, data = alice.list("Archive/", "%")
    assert [line.decode() for line in data] == ['(\\HasNoChildren) "/" "Archive/2025"']
    typ, data = alice.lsub()
    assert typ == "OK" and any(b'"Sent"' in line for line in data)


def test_select_reports_everything(alice):
    typ, data = alice.select("INBOX")
    assert typ == "OK" and data == [b"7"]
    assert alice.untagged_responses["RECENT"] == [b"7"]
    assert alice.untagged_responses["UIDNEXT"] == [b"8"]
    assert alice.untagged_responses["UNSEEN"] == [b"2"]
    assert "UIDVALIDITY" in alice.untagged_responses
    assert alice.untagged_responses["READ-WRITE"] == [b""]
    assert b"\\Seen" in alice.untagged_responses["FLAGS"][0]


def test_examine_is_read_only(alice):
    typ, _ = alice.select("INBOX", readonly=True)
    assert typ == "OK"
    assert "READ-ONLY" in alice.untagged_responses
    typ, data = alice.store("1", "+FLAGS", "\\Deleted")
    assert typ == "NO" and b"READ-ONLY" in data[0]
    # BODY[] on a read-only mailbox does not set \Seen.
    alice.fetch("2", "(BODY[])")
    typ, data = alice.fetch("2", "(FLAGS)")
    assert b"\\Seen" not in data[0]


def test_fetch_every_simple_item(alice):
    alice.select("INBOX")
    typ, data = alice.fetch("1", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE)")
    assert typ == "OK"
    text = data[0].decode()
    assert "UID 1 " in text and "FLAGS (\\Seen \\Recent)" in text
    assert 'INTERNALDATE "01-Sep-2026 09:14:59 +0000"' in text
    assert 'ENVELOPE ("Tue, 01 Sep 2026 11:14:52 +0200" "Welcome to the mail lab"' in text
    size = int(re.search(r"RFC822.SIZE (\d+)", text).group(1))
    typ, data = alice.fetch("1", "(RFC822)")
    assert len(data[0][1]) == size
    typ, data = alice.fetch("1", "(RFC822.HEADER)")
    assert data[0][1].startswith(b"Return-Path:") or b"Subject: Welcome to the mail lab" in data[0][1]
    assert data[0][1].endswith(b"\r\n\r\n")
    typ, data = alice.fetch("1", "(RFC822.TEXT)")
    header_len = len(alice.fetch("1", "(RFC822.HEADER)")[1][0][1])
    assert len(data[0][1]) == size - header_len


def test_fetch_macros(alice):
    alice.select("INBOX")
    for macro, expected in (("FAST", "RFC822.SIZE"), ("ALL", "ENVELOPE"), ("FULL", "BODY (")):
        typ, data = alice.fetch("1:2", macro)
        assert typ == "OK" and len(data) == 2 and expected in data[0].decode()


def test_fetch_body_sections_and_seen(alice):
    alice.select("INBOX")
    typ, data = alice.fetch("2", "(BODY.PEEK[HEADER.FIELDS (Subject)])")
    assert data[0][0].endswith(b"BODY[HEADER.FIELDS (SUBJECT)] {82}") or b"HEADER.FIELDS (SUBJECT)" in data[0][0]
    assert data[0][1].startswith(b"Subject: ")
    assert b"\\Seen" not in alice.fetch("2", "(FLAGS)")[1][0]
    typ, data = alice.fetch("2", "(BODY[TEXT]<0.20>)")
    assert b"BODY[TEXT]<0> {20}" in data[0][0] and len(data[0][1]) == 20
    assert b"\\Seen" in data[0][0] or b"\\Seen" in data[1]
    # Message 3: multipart/mixed with an attachment.
    typ, data = alice.fetch("3", "(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2.MIME])")
    joined = b"".join(part if isinstance(part, bytes) else part[0] + part[1] for part in data)
    assert b"Content-Type: application/vnd.oasis.opendocument.text" in joined
    typ, data = alice.fetch("3", "(BODY.PEEK[HEADER.FIELDS.NOT (Received Return-Path)])")
    assert b"Received:" not in data[0][1] and b"Subject:" in data[0][1]
    typ, data = alice.fetch("3", "(BODY.PEEK[9])")
    assert b"BODY[9] NIL" in data[0]


def test_fetch_nested_message_part(alice):
    alice.select("INBOX")
    typ, data = alice.fetch("5", "(BODYSTRUCTURE)")
    assert b'"message" "rfc822"' in data[0].lower() or b'"MESSAGE" "RFC822"' in data[0].upper()
    typ, data = alice.fetch("5", "(BODY.PEEK[2.HEADER.FIELDS (SUBJECT)] BODY.PEEK[2.1])")
    assert typ == "OK"
    assert b"Subject:" in data[0][1]


def test_search(alice):
    alice.select("INBOX")
    assert alice.search(None, "ALL")[1] == [b"1 2 3 4 5 6 7"]
    assert alice.search(None, "FROM", "bob")[1] == [b"1 3 5"]
    assert alice.search(None, "SEEN")[1] == [b"1 3 5 7"]
    assert alice.search(None, "UNSEEN")[1] == [b"2 4 6"]
    assert alice.search(None, "FLAGGED")[1] == [b"2 5"]
    assert alice.search(None, "OR", "FLAGGED", "ANSWERED")[1] == [b"2 3 5"]
    assert alice.search(None, "NOT", "SEEN", "SMALLER", "2000")[1] == [b"2"]
    assert alice.search(None, "(SINCE 3-Sep-2026 BEFORE 8-Sep-2026)")[1] == [b"3 4"]
    assert alice.search(None, "SENTON", "1-Sep-2026")[1] == [b"1"]
    assert alice.search(None, "2:4", "RECENT")[1] == [b"2 3 4"]
    assert alice.search(None, "SUBJECT", "newsletter")[1] == [b"4"]
    assert alice.uid("SEARCH", None, "UID", "5:*")[1] == [b"5 6 7"]
    # Decoded, case-insensitive: the subject is RFC 2047 encoded UTF-8.
    typ, data = alice.search("UTF-8", "SUBJECT", "reunión".encode())
    assert typ == "OK" and data == [b"2"]
    assert alice.search(None, "TEXT", '"dot problem"')[1] == [b"6"]
    assert alice.search(None, "HEADER", "Message-ID", "campus.example")[1] == [b"4"]
    typ, data = alice.search("KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0]


def test_store_and_expunge(alice):
    alice.select("INBOX")
    typ, data = alice.store("1:2", "+FLAGS", "(\\Deleted custom)")
    assert typ == "OK" and b"\\Deleted" in data[0] and b"custom" in data[0]
    typ, data = alice.store("2", "-FLAGS.SILENT", "(\\Deleted)")
    assert typ == "OK" and data == [None]
    typ, data = alice.store("3", "FLAGS", "(\\Draft)")
    assert b"FLAGS (\\Draft \\Recent)" in data[0]
    typ, data = alice.expunge()
    assert typ == "OK" and data == [b"1"]
    assert alice.search(None, "ALL")[1] == [b"1 2 3 4 5 6"]
    assert alice.search(None, "KEYWORD", "custom")[1] == [b"1"]


def test_copy_move_with_uidplus(alice, servers):
    alice.select("INBOX")
    typ, data = alice.copy("1:2", "Archive")
    assert typ == "OK" and re.search(rb"\[COPYUID \d+ 1:2 \d+:\d+\]", data[0])
    typ, data = alice.uid("MOVE", "3", "Trash")
    assert typ == "OK"
    assert alice.search(None, "ALL")[1] == [b"1 2 3 4 5 6"]
    typ, data = alice.copy("1", "Nowhere")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    typ, data = alice.select("Trash")
    assert data == [b"1"]


def test_append(alice):
    message = b"From: carol@example.org\r\nSubject: appended\r\n\r\nHello\r\n"
    typ, data = alice.append("Drafts", "(\\Draft \\Seen)", imaplib.Time2Internaldate(time.time()), message)
    assert typ == "OK" and re.search(rb"\[APPENDUID \d+ 1\]", data[0])
    typ, data = alice.select("Drafts")
    assert data == [b"1"]
    typ, data = alice.fetch("1", "(FLAGS BODY.PEEK[])")
    assert data[0][1] == message and b"\\Draft" in data[0][0]
    typ, data = alice.append("Missing", None, None, message)
    assert typ == "NO" and b"TRYCREATE" in data[0]


def test_create_rename_delete_status(alice):
    assert alice.create("Projects/2026")[0] == "OK"
    assert alice.create("Projects")[0] == "NO"  # already created as a parent
    assert alice.rename("Projects", "Work")[0] == "OK"
    names = b" ".join(alice.list()[1])
    assert b'"Work/2026"' in names and b"Projects" not in names
    # RFC 3501 §6.3.4: a mailbox with inferiors may be deleted; the name stays \Noselect.
    typ, data = alice.delete("Work")
    assert typ == "OK" and b"Noselect" in data[0]
    listed = alice.list('""', "*")[1]
    assert b'(\\Noselect \\HasChildren) "/" "Work"' in listed and any(b'"Work/2026"' in line for line in listed)
    assert alice.select("Work")[0] == "NO"
    assert alice.delete("Work/2026")[0] == "OK"
    assert all(b'"Work' not in line for line in alice.list('""', "*")[1])
    assert alice.delete("INBOX")[0] == "NO"
    typ, data = alice.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)")
    assert typ == "OK"
    assert re.search(rb"MESSAGES 7 UNSEEN 3 UIDNEXT 8 UIDVALIDITY \d+ RECENT 7", data[0])
    assert alice.subscribe("Trash")[0] == "OK" and alice.unsubscribe("Trash")[0] == "OK"
    assert all(b'"Trash"' not in line for line in alice.lsub()[1])


def test_rename_inbox_moves_messages(alice):
    assert alice.rename("INBOX", "Old")[0] == "OK"
    assert alice.select("INBOX")[1] == [b"0"]
    assert alice.select("Old")[1] == [b"7"]


def test_non_ascii_mailbox_names_travel_as_modified_utf7(alice):
    assert alice.create("&AMk-l&AOk-ments")[0] == "OK"  # "Éléments"
    assert any(b'"&AMk-l&AOk-ments"' in line for line in alice.list()[1])


def test_namespace_unselect_close_check(alice):
    typ, data = alice.namespace()
    assert data == [b'(("" "/")) NIL NIL']
    alice.select("INBOX")
    assert alice.check()[0] == "OK"
    assert alice._simple_command("UNSELECT")[0] == "OK"
    alice.select("INBOX")
    alice.store("7", "+FLAGS", "\\Deleted")
    assert alice.close()[0] == "OK"
    assert alice.select("INBOX")[1] == [b"6"]


def test_wrong_state_is_bad(client):
    with pytest.raises(imaplib.IMAP4.error):
        client.select("INBOX")  # imaplib refuses before sending; the raw tests send it


def test_logout(client):
    client.login("alice", "wonderland")
    typ, data = client.logout()
    assert typ == "BYE"
