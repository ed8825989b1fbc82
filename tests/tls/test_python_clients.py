"""Python's own mail clients over real sockets: STARTTLS/STLS and implicit TLS, with
certificate verification against mailsim's local CA, as a careful client does it."""

from __future__ import annotations

import imaplib
import poplib
import smtplib
import ssl

import pytest
from running_servers import RunningServers

from mailsim.events import Protocol, TlsStarted
from .conftest import implicit_port

pytestmark = pytest.mark.network
HOST = "localhost"  # a name the certificate carries, so hostname checking is real


def _tls_events(servers: RunningServers) -> list[TlsStarted]:
    return [e for e in servers.events if isinstance(e, TlsStarted)]


def test_smtplib_starttls_then_auth_and_send(tls_servers, trusting):
    with smtplib.SMTP(HOST, tls_servers.smtp, timeout=10) as client:
        client.ehlo("client.example")
        assert client.has_extn("starttls")
        client.starttls(context=trusting)
        client.ehlo("client.example")
        assert not client.has_extn("starttls")  # offered only while it can be used
        client.login("alice", "wonderland")
        client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], b"Subject: over TLS\r\n\r\nhi\r\n")
    inbox = tls_servers.call(lambda: tls_servers.store.mailbox("bob", "INBOX").messages)
    assert inbox[-1].raw.endswith(b"hi\r\n")
    [event] = _tls_events(tls_servers)
    assert event.version.startswith("TLSv1.") and event.cipher and not event.implicit
    assert event.fingerprint.count(":") == 31


def test_smtp_ssl_implicit(tls_servers, trusting):
    with smtplib.SMTP_SSL(HOST, implicit_port(tls_servers, Protocol.SMTP), context=trusting, timeout=10) as client:
        code, _ = client.ehlo("client.example")
        assert code == 250 and client.has_extn("auth") and not client.has_extn("starttls")
        client.login("bob", "builder")
    assert _tls_events(tls_servers)[0].implicit


def test_poplib_stls(tls_servers, trusting):
    client = poplib.POP3(HOST, tls_servers.ports[Protocol.POP3], timeout=10)
    assert "STLS" in client.capa()
    client.stls(context=trusting)
    assert "STLS" not in client.capa()
    client.user("alice")
    client.pass_("wonderland")
    count, _ = client.stat()
    assert count > 0
    client.quit()


def test_pop3_ssl_implicit(tls_servers, trusting):
    client = poplib.POP3_SSL(HOST, implicit_port(tls_servers, Protocol.POP3), context=trusting, timeout=10)
    client.user("bob")
    client.pass_("builder")
    assert client.stat()[0] >= 0
    client.quit()


def test_imaplib_starttls(tls_servers, trusting):
    client = imaplib.IMAP4(HOST, tls_servers.ports[Protocol.IMAP], timeout=10)
    assert "STARTTLS" in client.capabilities
    client.starttls(ssl_context=trusting)
    assert "STARTTLS" not in client.capabilities  # imaplib asked CAPABILITY again
    client.login("alice", "wonderland")
    typ, data = client.select("INBOX")
    assert typ == "OK" and int(data[0]) > 0
    client.logout()


def test_imap4_ssl_implicit(tls_servers, trusting):
    client = imaplib.IMAP4_SSL(HOST, implicit_port(tls_servers, Protocol.IMAP), ssl_context=trusting, timeout=10)
    client.login("bob", "builder")
    assert client.select("INBOX")[0] == "OK"
    client.logout()


def test_client_that_does_not_trust_the_certificate_fails_and_server_goes_on(tls_servers):
    untrusting = ssl.create_default_context()  # the system's CAs only
    with smtplib.SMTP(HOST, tls_servers.smtp, timeout=10) as client:
        client.ehlo("x.example")
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=untrusting)
    client = imaplib.IMAP4_SSL(HOST, implicit_port(tls_servers, Protocol.IMAP), ssl_context=ssl._create_unverified_context(), timeout=10)
    assert client.login("alice", "wonderland")[0] == "OK"
    client.logout()


# -- TLS required before passwords ---------------------------------------------------------------


def test_smtp_requires_tls_before_auth(strict_servers, trusting):
    with smtplib.SMTP(HOST, strict_servers.smtp, timeout=10) as client:
        client.ehlo("client.example")
        assert not client.has_extn("auth")
        code, message = client.docmd("AUTH", "PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=")
        assert (code, message) == (530, b"5.7.0 Must issue a STARTTLS command first")
        client.starttls(context=trusting)
        client.ehlo("client.example")
        assert client.has_extn("auth")
        client.login("alice", "wonderland")


def test_pop3_requires_tls_before_user(strict_servers, trusting):
    client = poplib.POP3(HOST, strict_servers.ports[Protocol.POP3], timeout=10)
    capabilities = client.capa()
    assert "STLS" in capabilities and "USER" not in capabilities and "SASL" not in capabilities
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\] Plaintext authentication disallowed"):
        client.user("alice")
    client.stls(context=trusting)
    assert "USER" in client.capa()
    client.user("alice")
    client.pass_("wonderland")
    client.quit()


def test_imap_logindisabled_until_starttls(strict_servers, trusting):
    client = imaplib.IMAP4(HOST, strict_servers.ports[Protocol.IMAP], timeout=10)
    assert "LOGINDISABLED" in client.capabilities
    assert not any(c.startswith("AUTH=") for c in client.capabilities)
    typ, data = client._simple_command("LOGIN", "alice", "wonderland")
    assert typ == "NO" and data[-1].startswith(b"[PRIVACYREQUIRED]")
    client.starttls(ssl_context=trusting)
    assert "LOGINDISABLED" not in client.capabilities and "AUTH=PLAIN" in client.capabilities
    client.login("alice", "wonderland")
    client.logout()
