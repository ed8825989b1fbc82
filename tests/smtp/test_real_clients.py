"""SMTP against real clients over real sockets: smtplib, aiosmtplib and swaks."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage

import aiosmtplib
import pytest

from mailsim.events import Delivered

pytestmark = pytest.mark.network


def inbox(servers, account: str):
    return servers.call(lambda: list(servers.store.mailbox(account, "INBOX").messages))


def make_message(subject: str = "Práctica 1", body: str = "Hola Bob\n") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Alice <alice@mailsim.test>"
    message["To"] = "bob@mailsim.test"
    message["Subject"] = subject
    message.set_content(body)
    return message


def test_smtplib_whole_transaction(servers) -> None:
    before = len(inbox(servers, "bob"))
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        code, banner = client.ehlo("client.example")
        assert code == 250 and b"mailsim.test greets client.example" in banner
        assert client.has_extn("pipelining") and client.has_extn("smtputf8")
        assert int(client.esmtp_features["size"]) == 10 * 1024 * 1024
        refused = client.send_message(make_message())
        assert refused == {}
        assert client.noop() == (250, b"2.0.0 Ok")
    messages = inbox(servers, "bob")
    assert len(messages) == before + 1
    parsed = message_from_bytes(messages[-1].raw, policy=policy.default)
    assert parsed["Subject"] == "Práctica 1"
    assert parsed["Return-Path"] == "<alice@mailsim.test>"
    assert parsed.get_content().splitlines() == ["Hola Bob"]
    assert any(isinstance(e, Delivered) and e.account == "bob" for e in servers.events)


def test_smtplib_several_recipients_one_refused(servers) -> None:
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        refused = client.sendmail(
            "alice@mailsim.test",
            ["bob@mailsim.test", "ghost@mailsim.test", "alice@mailsim.test"],
            b"Subject: to many\r\n\r\nhello\r\n",
        )
    assert refused == {"ghost@mailsim.test": (550, b"5.1.1 <ghost@mailsim.test>: no such user here")}
    assert inbox(servers, "bob")[-1].raw.endswith(b"Subject: to many\r\n\r\nhello\r\n")
    assert inbox(servers, "alice")[-1].raw.endswith(b"Subject: to many\r\n\r\nhello\r\n")


def test_lines_starting_with_dot_arrive_intact(servers) -> None:
    body = ".\r\n..\r\n.hidden\r\nnormal\r\n. space\r\n"
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], ("Subject: dots\r\n\r\n" + body).encode())
    raw = inbox(servers, "bob")[-1].raw
    assert raw.endswith(b"Subject: dots\r\n\r\n" + body.encode())


def test_utf8_body_and_address_with_smtputf8(servers) -> None:
    message = EmailMessage()
    message["From"] = "José <josé@ejemplo.example>"
    message["To"] = "bob@mailsim.test"
    message["Subject"] = "Señales"
    message.set_content("Cañón, pingüino, ñandú.\n", cte="8bit")
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        client.send_message(message, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    raw = inbox(servers, "bob")[-1].raw
    assert "Return-Path: <josé@ejemplo.example>".encode() in raw
    assert "Cañón, pingüino, ñandú.".encode() in raw


def test_size_refusal(store) -> None:
    from running_servers import start_servers

    from mailsim.protocol.base import SessionConfig

    for running in start_servers(store, config=SessionConfig(max_message_size=1000, auth_failure_delay=0)):
        with smtplib.SMTP("127.0.0.1", running.smtp, timeout=10) as client:
            client.ehlo()
            assert int(client.esmtp_features["size"]) == 1000
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], b"x" * 5000)
            assert refused.value.smtp_code == 552


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_auth_mechanisms_with_smtplib(servers, mechanism: str) -> None:
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        client.ehlo()
        client.user, client.password = "alice", "wonderland"
        auth = {"PLAIN": client.auth_plain, "LOGIN": client.auth_login, "CRAM-MD5": client.auth_cram_md5}[mechanism]
        code, _ = client.auth(mechanism, auth)
        assert code == 235
        # Authenticated, relaying to a remote domain is accepted into the simulated queue.
        assert client.sendmail("alice@mailsim.test", ["carol@remote.example"], b"Subject: out\r\n\r\nx\r\n") == {}
    assert servers.call(lambda: [q.recipient for q in servers.store.outgoing]) == ["carol@remote.example"]


def test_wrong_password_is_refused(servers) -> None:
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as error:
            client.login("alice", "not-the-password")
        assert error.value.smtp_code == 535


def test_relay_refused_without_auth(servers) -> None:
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("alice@mailsim.test", ["carol@remote.example"], b"x\r\n")
    assert refused.value.recipients["carol@remote.example"][0] == 554


def test_aiosmtplib_sends_with_pipelining(servers) -> None:
    async def send() -> None:
        message = make_message("via aiosmtplib", "segunda prueba\n")
        errors, response = await aiosmtplib.send(
            message, hostname="127.0.0.1", port=servers.smtp, username="bob", password="builder",
            start_tls=False, use_tls=False,
        )
        assert errors == {}
        assert response.startswith("2.0.0 Ok: queued as")

    asyncio.run(send())
    parsed = message_from_bytes(inbox(servers, "bob")[-1].raw, policy=policy.default)
    assert parsed["Subject"] == "via aiosmtplib"
    assert "with ESMTPA" in parsed["Received"]


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_delivers(servers) -> None:
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{servers.smtp}", "--to", "bob@mailsim.test",
         "--from", "alice@mailsim.test", "--header", "Subject: swaks test", "--body", "from swaks"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<-  250 2.0.0 Ok: queued as" in result.stdout
    raw = inbox(servers, "bob")[-1].raw
    assert b"Subject: swaks test" in raw and b"from swaks" in raw
