"""SEARCH BODY and TEXT look at the whole body (RFC 3501 §6.4.4): the header of an
attached message and a bounce's message/delivery-status part too, not only the
decoded text/* leaves. imaplib over a real socket."""

from __future__ import annotations

import imaplib

import pytest

from mailsim.events import Protocol

FORWARD = (
    b"Subject: reenvio-unico\r\nContent-Type: multipart/mixed; boundary=\"F\"\r\n\r\n"
    b"--F\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    b"--F\r\nContent-Type: message/rfc822\r\n\r\n"
    b"From: Zacarias <zacarias@example.org>\r\nSubject: Zanahorias frescas\r\n\r\ninner text\r\n"
    b"--F--\r\n"
)
BOUNCE = (
    b"Subject: Undelivered Mail\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n"
    b"--R\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
    b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mailsim.test\r\n\r\nFinal-Recipient: rfc822; nadie@ejemplo.test\r\n"
    b"Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 buzon inexistente\r\n"
    b"--R--\r\n"
)


@pytest.fixture
def client(servers):
    for raw in (FORWARD, BOUNCE):
        servers.call(lambda raw=raw: servers.store.append("alice", "INBOX", raw))
    connection = imaplib.IMAP4("127.0.0.1", servers.ports[Protocol.IMAP])
    connection.login("alice", "wonderland")
    connection.select("INBOX", readonly=True)
    yield connection
    connection.logout()


def _found(client, *criteria: str) -> list[bytes]:
    typ, data = client.search(None, *criteria)
    assert typ == "OK"
    return data[0].split()


def test_body_finds_the_header_of_an_attached_message(client) -> None:
    forward = _found(client, "SUBJECT", "reenvio-unico")
    assert _found(client, "BODY", "zanahorias") == forward
    assert _found(client, "TEXT", "zacarias") == forward
    assert forward[0] in _found(client, "BODY", "message/rfc822")  # a part's MIME header is body too


def test_body_finds_words_of_a_delivery_status_part(client) -> None:
    bounce = _found(client, "SUBJECT", "Undelivered")
    assert _found(client, "BODY", '"buzon inexistente"') == bounce
    assert _found(client, "TEXT", "nadie@ejemplo.test") == bounce


def test_body_still_leaves_out_the_top_level_header(client) -> None:
    assert _found(client, "BODY", "Undelivered") == []
    assert _found(client, "TEXT", "Undelivered") == _found(client, "SUBJECT", "Undelivered")
