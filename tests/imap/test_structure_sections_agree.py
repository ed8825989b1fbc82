"""Whatever BODYSTRUCTURE says, each section fetch returns exactly that part: for every
leaf it lists, BODY[n] has the octets the structure gives, and BODY[n.MIME] is the
part's own header — also for broken multiparts where no parts were found."""

from __future__ import annotations

import pytest
from imapclient import IMAPClient
from imapclient.response_types import BodyData

from mailsim.events import Protocol

BROKEN = {
    "no-boundary": b"Subject: no boundary\r\nContent-Type: multipart/mixed\r\n\r\nbody text\r\nmore\r\n",
    "no-opening-delimiter": (
        b'Subject: no opening\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\nno parts here\r\n--b--\r\n'
    ),
    "rfc822-with-close-only": (
        b'Subject: outer\r\nContent-Type: multipart/mixed; boundary="AAA"\r\n\r\n'
        b"--AAA\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
        b"--AAA\r\nContent-Type: message/rfc822\r\n\r\n"
        b'Subject: inner\r\nContent-Type: multipart/alternative; boundary="BBB"\r\n\r\n--BBB--\r\n'
        b"--AAA--\r\n"
    ),
    "part-without-boundary": (
        b'Subject: nested\r\nContent-Type: multipart/mixed; boundary="o"\r\n\r\n'
        b"--o\r\nContent-Type: text/plain\r\n\r\none\r\n"
        b"--o\r\nContent-Type: multipart/alternative\r\n\r\nalt body\r\n--o--\r\n"
    ),
}


def _leaves(structure, section=""):
    """(section, size) of every leaf of a message's structure, descending into
    message/rfc822 parts. `section`: the message's own section ("" at the top)."""
    structure = BodyData.create(structure)  # imapclient leaves an inner message's structure raw
    prefix = f"{section}." if section else ""
    if structure.is_multipart:
        for index, part in enumerate(structure[0], 1):
            yield from _part_leaves(part, f"{prefix}{index}")
    else:  # a non-multipart message's body is its part 1
        yield from _part_leaves(structure, f"{prefix}1")


def _part_leaves(part, section):
    part = BodyData.create(part)
    if part.is_multipart:
        for index, child in enumerate(part[0], 1):
            yield from _part_leaves(child, f"{section}.{index}")
        return
    yield section, part[6]
    if part[0].lower() == b"message" and part[1].lower() == b"rfc822":
        yield from _leaves(part[8], section)


@pytest.fixture
def client(servers):
    for raw in BROKEN.values():
        servers.call(lambda raw=raw: servers.store.append("alice", "INBOX", raw))
    with IMAPClient("127.0.0.1", port=servers.ports[Protocol.IMAP], ssl=False, timeout=10) as connection:
        connection.login("alice", "wonderland")
        connection.select_folder("INBOX", readonly=True)
        yield connection


def test_every_listed_part_is_what_its_section_returns(client) -> None:
    uids = client.search("ALL")
    structures = client.fetch(uids, ["BODYSTRUCTURE"])
    checked = 0
    for uid in uids:
        for section, size in _leaves(structures[uid][b"BODYSTRUCTURE"]):
            data = client.fetch([uid], [f"BODY.PEEK[{section}]"])[uid]
            body = next(value for key, value in data.items() if key.startswith(b"BODY["))
            assert len(body or b"") == size, (uid, section)
            checked += 1
    assert checked >= 15


def test_headerless_part_of_a_broken_multipart(client) -> None:
    uid = client.search(["SUBJECT", "no opening"])[0]
    structure = client.fetch([uid], ["BODYSTRUCTURE"])[uid][b"BODYSTRUCTURE"]
    (part,) = structure[0]
    assert part[:2] == (b"text", b"plain")
    data = client.fetch([uid], ["BODY.PEEK[1]", "BODY.PEEK[1.MIME]"])[uid]
    assert data[b"BODY[1]"] == b"no parts here\r\n--b--\r\n" and part[6] == len(data[b"BODY[1]"])
    assert data[b"BODY[1.MIME]"] == b""  # the part has no header: text/plain by default


def test_inner_message_with_only_a_close_delimiter(client) -> None:
    uid = client.search(["SUBJECT", "outer"])[0]
    structure = client.fetch([uid], ["BODYSTRUCTURE"])[uid][b"BODYSTRUCTURE"]
    inner = BodyData.create(structure[0][1][8])
    (part,) = inner[0]
    data = client.fetch([uid], ["BODY.PEEK[2.1]"])[uid]
    assert data[b"BODY[2.1]"] == b"--BBB--" and part[6] == 7  # the CRLF before --AAA-- is the boundary's
