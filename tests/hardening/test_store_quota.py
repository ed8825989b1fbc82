"""Per-account storage quotas, answered as real servers answer: SMTP 452 4.2.2 at RCPT
when the mailbox is full and 552 5.2.2 when the message does not fit, IMAP
NO [OVERQUOTA] for APPEND/COPY/MOVE, and RFC 9208 GETQUOTA/GETQUOTAROOT."""

from __future__ import annotations

import imaplib
import smtplib

import pytest
from imapclient import IMAPClient
from running_servers import start_servers

from mailsim.events import Protocol, Reply
from mailsim.protocol.explain import Explainer
from mailsim.store.model import DEFAULT_QUOTA
from mailsim.store.store import QuotaExceeded
from mailsim.store.world import build_store, parse_roster

ROOM = 4000  # octets left in alice's quota at the start of each test


def _text(size: int) -> bytes:
    """About `size` octets of message text in lines SMTP accepts."""
    return (b"x" * 78 + b"\r\n") * (size // 80 + 1)


@pytest.fixture
def store():
    store = build_store()
    store.account("alice").quota = store.usage("alice") + ROOM
    return store


@pytest.fixture
def servers(store):
    yield from start_servers(store)


def _imap(servers) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", servers.ports[Protocol.IMAP])
    client.login("alice", "wonderland")
    return client


def test_quota_capability_and_getquotaroot_with_imaplib(servers, store) -> None:
    client = _imap(servers)
    assert "QUOTA" in client.capabilities and "QUOTA=RES-STORAGE" in client.capabilities
    typ, data = client.getquotaroot("INBOX")
    assert typ == "OK"
    roots, quotas = data
    assert roots == [b'"INBOX" "User quota"']
    used_kib = -(-store.usage("alice") // 1024)
    assert quotas == [b'"User quota" (STORAGE %d %d)' % (used_kib, store.quota("alice") // 1024)]
    assert client.getquota('"User quota"')[1] == quotas
    typ, data = client.getquota('"nobody"')
    assert typ == "NO" and b"[NONEXISTENT]" in data[0]
    typ, data = client.setquota('"User quota"', "(STORAGE 1)")
    assert typ == "NO" and b"[NOPERM]" in data[0]
    client.logout()


def test_imapclient_reads_the_quota(servers, store) -> None:
    with IMAPClient("127.0.0.1", port=servers.ports[Protocol.IMAP], ssl=False, timeout=10) as client:
        client.login("alice", "wonderland")
        roots, quotas = client.get_quota_root("INBOX")
        assert roots.mailbox == "INBOX" and roots.quota_roots == ["User quota"]
        (quota,) = quotas
        assert (quota.quota_root, quota.resource, quota.limit) == ("User quota", "STORAGE", store.quota("alice") // 1024)


def test_append_over_quota_is_overquota_and_stores_nothing(servers, store) -> None:
    client = _imap(servers)
    assert client.append("INBOX", None, None, b"Subject: fits\r\n\r\n" + b"x" * 1000 + b"\r\n")[0] == "OK"
    typ, data = client.append("INBOX", None, None, b"Subject: too big\r\n\r\n" + b"x" * ROOM + b"\r\n")
    assert typ == "NO" and data[0].startswith(b"[OVERQUOTA] Quota exceeded")
    assert client.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 8)")
    client.logout()


def test_copy_is_all_or_nothing_and_expunge_makes_room(servers, store) -> None:
    """The issue's attack: repeated COPY 1:* doubling a mailbox; here it stops at the quota."""
    client = _imap(servers)
    client.create("big")
    client.append("big", None, None, b"Subject: seed\r\n\r\n" + b"x" * 1500 + b"\r\n")
    client.select("big")
    assert client.copy("1:*", "big")[0] == "OK"  # 2 copies: ~3 KB used of 4 KB
    typ, data = client.copy("1:*", "big")  # would need ~3 KB more
    assert typ == "NO" and b"[OVERQUOTA]" in data[0]
    assert client.select("big")[1] == [b"2"]  # nothing of the failed COPY is there
    typ, data = client._simple_command("MOVE", "1", "INBOX")  # within one quota root: no room needed
    assert typ == "OK"
    client.store("1:*", "+FLAGS", "(\\Deleted)")
    client.expunge()
    client.select("INBOX")
    assert client.copy("1", "big")[0] == "OK"
    client.logout()


def test_smtp_452_at_rcpt_when_full_and_552_when_the_message_does_not_fit(servers, store) -> None:
    big = b"Subject: big\r\n\r\n" + _text(ROOM + 10)
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        # Without SIZE=, the size is known only after DATA, and one reply covers all
        # recipients: none gets it.
        client.ehlo()
        client.esmtp_features.pop("size")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("x@example.org", ["alice@mailsim.test", "bob@mailsim.test"], big)
        assert refused.value.smtp_code == 552 and refused.value.smtp_error.startswith(b"5.2.2 <alice@mailsim.test>")
        assert servers.call(lambda: store.mailbox("bob", "INBOX").messages[-1].raw).find(b"Subject: big") < 0
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        # smtplib sends MAIL FROM:<...> SIZE=n: the recipient that cannot take it is
        # refused at RCPT (RFC 1870 §6.2) and the others get the message.
        refused_rcpt = client.sendmail("x@example.org", ["alice@mailsim.test", "bob@mailsim.test"], big)
        code, text = refused_rcpt["alice@mailsim.test"]
        assert code == 552 and text.startswith(b"5.2.2 <alice@mailsim.test>: mailbox full")
        assert servers.call(lambda: store.mailbox("bob", "INBOX").messages[-1].raw).find(b"Subject: big") > 0
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        servers.call(lambda: store.append("alice", "INBOX", b"x" * (store.quota("alice") - store.usage("alice"))))
        assert servers.call(lambda: store.is_full("alice"))
        client.ehlo()
        with pytest.raises(smtplib.SMTPRecipientsRefused) as full:
            client.sendmail("x@example.org", ["alice@mailsim.test"], b"Subject: more\r\n\r\nx\r\n")
        code, text = full.value.recipients["alice@mailsim.test"]
        assert code == 452 and text.startswith(b"4.2.2 ")
        # The other recipients of the same transaction are still served.
        assert client.sendmail("x@example.org", ["alice@mailsim.test", "bob@mailsim.test"], b"Subject: b\r\n\r\nx\r\n") == {
            "alice@mailsim.test": (452, b"4.2.2 <alice@mailsim.test>: mailbox full, try again later")
        }


def test_unauthenticated_flood_stops_at_the_recipient_quota(servers, store) -> None:
    accepted = 0
    for _ in range(12):
        with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
            try:
                client.sendmail("x@example.org", ["alice@mailsim.test"], b"Subject: flood\r\n\r\n" + _text(900))
                accepted += 1
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as refused:
                assert "4.2.2" in str(refused) or "5.2.2" in str(refused)
    assert 0 < accepted < 5
    assert servers.call(lambda: store.usage("alice")) <= store.quota("alice")


def test_quota_replies_are_explained_in_both_languages(servers, store) -> None:
    client = _imap(servers)
    client.append("INBOX", None, None, b"Subject: too big\r\n\r\n" + b"x" * ROOM + b"\r\n")
    client.logout()
    replies = [e for e in servers.events if isinstance(e, Reply) and e.key == "over-quota"]
    assert replies
    texts = {
        lang: Explainer(lang).reply(Protocol.IMAP, "over-quota", "NO", replies[0].reply_class) for lang in ("en", "es")
    }
    assert texts["en"].meaning != texts["es"].meaning
    for text in texts.values():
        assert "OVERQUOTA" in text.meaning and "9208" in text.meaning and "GETQUOTAROOT" in text.next_step


def test_store_level_defaults_and_unlimited() -> None:
    store = build_store()
    assert store.quota("bob") == DEFAULT_QUOTA
    store.account("bob").quota = 0
    store.append("bob", "INBOX", b"x" * (DEFAULT_QUOTA + 1))  # 0: no limit
    store.default_quota = 10
    with pytest.raises(QuotaExceeded):
        store.append("alice", "INBOX", b"Subject: x\r\n\r\nx")


def test_roster_sets_a_quota_per_account(tmp_path) -> None:
    roster = tmp_path / "class.toml"
    roster.write_text('[[accounts]]\nname = "ana"\npassword = "pw"\nquota = "1M"\n\n'
                      '[[accounts]]\nname = "luis"\npassword = "pw"\n', encoding="utf-8")
    store = build_store(extra_accounts=parse_roster(roster), default_quota=5 * 1024 * 1024)
    assert store.quota("ana") == 1024 * 1024 and store.quota("luis") == 5 * 1024 * 1024


def test_append_too_big_for_the_quota_is_refused_before_the_literal(servers, store) -> None:
    """A synchronizing literal that cannot fit gets NO [OVERQUOTA] instead of "+", so
    the client never sends the octets (RFC 3501 §7.5)."""
    import socket

    with socket.create_connection(("127.0.0.1", servers.ports[Protocol.IMAP]), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"a LOGIN alice wonderland\r\n")
        assert reader.readline().startswith(b"a OK")
        sock.sendall(b"b APPEND INBOX {%d}\r\n" % (ROOM + 1))
        assert reader.readline().startswith(b"b NO [OVERQUOTA] Quota exceeded: %d more octets" % (ROOM + 1))
        sock.sendall(b"c APPEND INBOX {5}\r\n")
        assert reader.readline() == b"+ Ready for 5 octets of literal data\r\n"
        sock.sendall(b"hello\r\n")
        assert reader.readline().startswith(b"c OK [APPENDUID ")
