"""imapclient (a full-featured third-party client) against the server, including
IDLE woken by a message that smtplib delivers meanwhile."""

from __future__ import annotations

import smtplib
from datetime import datetime, timezone

import pytest
from imapclient import IMAPClient
from imapclient.response_types import Envelope

from mailsim.events import Protocol


@pytest.fixture
def client(imap_port):
    with IMAPClient("127.0.0.1", port=imap_port, ssl=False, timeout=10) as connection:
        connection.login("alice", "wonderland")
        yield connection


def test_capabilities_namespace_id(client):
    caps = client.capabilities()
    assert b"IDLE" in caps and b"MOVE" in caps and b"UIDPLUS" in caps
    namespace = client.namespace()
    assert namespace[0] == (("", "/"),)
    fields = client.id_({"name": "pytest"})
    fields = fields[0] if len(fields) == 1 else fields
    assert dict(zip(fields[::2], fields[1::2]))[b"name"] == b"mailsim"


def test_folders(client):
    folders = client.list_folders()
    names = [name for _, _, name in folders]
    assert names[0] == "INBOX" and "Archive/2025" in names
    flags = {name: f for f, _, name in folders}
    assert b"\\Sent" in flags["Sent"] and b"\\HasChildren" in flags["Archive"]
    assert client.find_special_folder(b"\\Trash") == "Trash"
    client.create_folder("Año 2026")
    assert "Año 2026" in [name for _, _, name in client.list_folders()]
    client.rename_folder("Año 2026", "Curso")
    assert client.folder_exists("Curso") and not client.folder_exists("Año 2026")
    client.delete_folder("Curso")
    assert "Sent" in [name for _, _, name in client.list_sub_folders()]
    status = client.folder_status("INBOX", ["MESSAGES", "UNSEEN"])
    assert status == {b"MESSAGES": 7, b"UNSEEN": 3}


def test_select_and_fetch_parsed(client):
    info = client.select_folder("INBOX")
    assert info[b"EXISTS"] == 7 and info[b"UIDNEXT"] == 8 and info[b"READ-WRITE"]
    data = client.fetch([1, 3], ["ENVELOPE", "BODYSTRUCTURE", "FLAGS", "INTERNALDATE", "RFC822.SIZE"])
    envelope: Envelope = data[1][b"ENVELOPE"]
    assert envelope.subject == b"Welcome to the mail lab"
    assert envelope.from_[0].mailbox == b"bob" and envelope.from_[0].host == b"mailsim.test"
    assert data[1][b"INTERNALDATE"].replace(tzinfo=None) == datetime(2026, 9, 1, 9, 14, 59)
    structure = data[3][b"BODYSTRUCTURE"]
    assert structure.is_multipart
    assert structure[1] == b"mixed"
    assert structure[0][1][0] == b"application"
    assert data[3][b"RFC822.SIZE"] > 3000


def test_fetch_by_uid_with_peek_and_partial(client):
    client.select_folder("INBOX")
    data = client.fetch([2], ["BODY.PEEK[TEXT]<0.10>", "BODY.PEEK[HEADER.FIELDS (FROM)]"])
    assert len(data[2][b"BODY[TEXT]<0>"]) == 10
    assert data[2][b"BODY[HEADER.FIELDS (FROM)]"].startswith(b"From:")
    assert b"\\Seen" not in client.get_flags([2])[2]
    client.fetch([2], ["BODY[1]"])
    assert b"\\Seen" in client.get_flags([2])[2]


def test_search_flags_copy_move_expunge(client):
    client.select_folder("INBOX")
    assert client.search(["FROM", "bob", "SEEN"]) == [1, 3, 5]
    assert client.search("UNSEEN") == [2, 4, 6]
    assert client.search(["SUBJECT", "matrícula"], charset="UTF-8") == [7]
    client.add_flags([4], [b"$Important"])
    assert client.search(["KEYWORD", "$Important"]) == [4]
    client.remove_flags([4], [b"$Important"])
    client.set_flags([6], [b"\\Answered"])
    assert client.get_flags([6])[6] == (b"\\Answered", b"\\Recent")
    client.copy([1], "Archive")
    assert client.folder_status("Archive", ["MESSAGES"])[b"MESSAGES"] >= 1
    client.move([2], "Trash")
    assert client.search("ALL") == [1, 3, 4, 5, 6, 7]
    client.delete_messages([7])
    client.uid_expunge([7])
    assert client.search("ALL") == [1, 3, 4, 5, 6]
    client.unselect_folder()


def test_append_and_read_back(client):
    when = datetime(2026, 10, 1, 12, 0, 0, tzinfo=timezone.utc)
    response = client.append("Drafts", b"Subject: draft\r\n\r\nbody\r\n", flags=[b"\\Draft"], msg_time=when)
    assert b"APPENDUID" in response
    client.select_folder("Drafts", readonly=True)
    data = client.fetch("1", ["INTERNALDATE", "FLAGS", "RFC822"])
    assert data[1][b"RFC822"] == b"Subject: draft\r\n\r\nbody\r\n"
    assert b"\\Draft" in data[1][b"FLAGS"]
    assert data[1][b"INTERNALDATE"].replace(tzinfo=None) == datetime(2026, 10, 1, 12, 0, 0)


def test_idle_sees_smtp_delivery(client, servers):
    client.select_folder("INBOX")
    client.idle()
    with smtplib.SMTP("127.0.0.1", servers.ports[Protocol.SMTP], timeout=10) as smtp:
        smtp.sendmail("bob@mailsim.test", ["alice@mailsim.test"], b"Subject: ping\r\n\r\nwake up\r\n")
    responses = client.idle_check(timeout=5)
    client.idle_done()
    assert (8, b"EXISTS") in responses
    assert client.search(["SUBJECT", "ping"]) == [8]


def test_idle_sees_another_session(client, imap_port):
    client.select_folder("INBOX")
    client.idle()
    with IMAPClient("127.0.0.1", port=imap_port, ssl=False, timeout=10) as other:
        other.login("alice", "wonderland")
        other.select_folder("INBOX")
        other.add_flags([4], [b"\\Flagged"])
        changed = client.idle_check(timeout=5)
        assert (4, b"FETCH", (b"FLAGS", (b"\\Flagged", b"\\Recent"))) in changed
        other.delete_messages([1])
        other.expunge()
        gone: list = []
        while (1, b"EXPUNGE") not in gone:  # the \Deleted flag may come in an earlier push
            more = client.idle_check(timeout=5)
            assert more, f"no EXPUNGE pushed; got {gone}"
            gone += more
    client.idle_done()
    assert client.search("ALL") == [2, 3, 4, 5, 6, 7]  # imapclient searches by UID
