"""The sans-IO SMTP client: scripted server replies in, the exact commands out.

Then the client against the real server engine, with no event loop (h11's
`ConnectionPair` shape): what one says, the other hears.
"""

from __future__ import annotations

import pytest

from mailsim.clock import FixedClock, SequentialIds
from mailsim.protocol.base import SessionConfig
from mailsim.protocol.smtp import SmtpSession
from mailsim.protocol.smtp_client import ClientState, SmtpClient, dot_stuff
from mailsim.store.queue import Outcome
from mailsim.store.world import build_store


def talk(client: SmtpClient, *replies: bytes) -> list[bytes]:
    """Feed replies one at a time; return what the client sent after each."""
    said = []
    for reply in replies:
        client.receive_data(reply)
        said.append(client.data_to_send())
    return said


def test_a_whole_transaction_one_command_per_reply() -> None:
    client = SmtpClient("mx.a.test", "ana@a.test", ["bea@b.test"], b"Subject: x\r\n\r\nhi\r\n")
    said = talk(
        client,
        b"220 mx.b.test ESMTP\r\n",
        b"250-mx.b.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
        b"250 2.1.0 ok\r\n",
        b"250 2.1.5 ok\r\n",
        b"354 go ahead\r\n",
        b"250 2.0.0 queued as X1\r\n",
        b"221 2.0.0 bye\r\n",
    )
    assert said == [
        b"EHLO mx.a.test\r\n",
        b"MAIL FROM:<ana@a.test>\r\n",
        b"RCPT TO:<bea@b.test>\r\n",
        b"DATA\r\n",
        b"Subject: x\r\n\r\nhi\r\n.\r\n",
        b"QUIT\r\n",
        b"",
    ]
    assert client.done
    result = client.outcomes["bea@b.test"]
    assert (result.outcome, result.reply.code, result.reply.enhanced, result.stage) == (
        Outcome.DELIVERED, "250", "2.0.0", "DATA")


def test_a_multiline_reply_is_one_reply() -> None:
    client = SmtpClient("h", "a@a.test", ["b@b.test"], b"x\r\n")
    talk(client, b"220 hi\r\n")
    client.receive_data(b"250-first\r\n")
    assert client.data_to_send() == b"" and client.state is ClientState.EHLO
    client.receive_data(b"250 last\r\n")
    assert client.data_to_send() == b"MAIL FROM:<a@a.test>\r\n"


def test_ehlo_refused_falls_back_to_helo() -> None:
    client = SmtpClient("h.test", "a@a.test", ["b@b.test"], b"x\r\n")
    said = talk(client, b"220 old server\r\n", b"502 5.5.1 what is EHLO\r\n", b"250 hello\r\n")
    assert said == [b"EHLO h.test\r\n", b"HELO h.test\r\n", b"MAIL FROM:<a@a.test>\r\n"]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [(b"450 4.2.0 greylisted\r\n", Outcome.TRANSIENT), (b"550 5.1.1 no such user\r\n", Outcome.PERMANENT)],
)
def test_each_recipient_gets_its_own_rcpt_answer(reply: bytes, outcome: Outcome) -> None:
    client = SmtpClient("h", "a@a.test", ["ok@b.test", "no@b.test"], b"x\r\n")
    said = talk(client, b"220 hi\r\n", b"250 hi\r\n", b"250 ok\r\n", b"250 ok\r\n", reply, b"354 go\r\n",
                b"250 2.0.0 done\r\n")
    assert said[3] == b"RCPT TO:<no@b.test>\r\n" and said[4] == b"DATA\r\n"
    assert client.outcomes["ok@b.test"].outcome is Outcome.DELIVERED
    refused = client.outcomes["no@b.test"]
    assert refused.outcome is outcome and refused.stage == "RCPT" and refused.reply.text.endswith(reply[10:-2].decode())


def test_no_recipient_accepted_means_no_data() -> None:
    client = SmtpClient("h", "a@a.test", ["no@b.test"], b"x\r\n")
    said = talk(client, b"220 hi\r\n", b"250 hi\r\n", b"250 ok\r\n", b"550 5.1.1 unknown\r\n")
    assert said[-1] == b"QUIT\r\n"
    assert client.outcomes["no@b.test"].outcome is Outcome.PERMANENT


def test_a_refusing_greeting_and_a_lost_connection_are_retried() -> None:
    busy = SmtpClient("h", "a@a.test", ["b@b.test"], b"x\r\n")
    assert talk(busy, b"421 4.3.2 busy\r\n") == [b"QUIT\r\n"]
    assert busy.outcomes["b@b.test"].outcome is Outcome.TRANSIENT
    lost = SmtpClient("h", "a@a.test", ["b@b.test"], b"x\r\n")
    talk(lost, b"220 hi\r\n", b"250 hi\r\n")
    lost.receive_eof()
    assert lost.done and lost.outcomes["b@b.test"].reply.code == "421"
    assert lost.outcomes["b@b.test"].outcome is Outcome.TRANSIENT


def test_dot_stuffing() -> None:
    assert dot_stuff(b".hidden\r\nline\r\n..two\r\n") == b"..hidden\r\nline\r\n...two\r\n.\r\n"
    assert dot_stuff(b"no final newline") == b"no final newline\r\n.\r\n"
    assert dot_stuff(b"bare\nlf\n") == b"bare\r\nlf\r\n.\r\n"


def test_client_against_the_mx_engine_delivers_a_dotted_message() -> None:
    store = build_store(clock=FixedClock(), ids=SequentialIds("Q"))
    server = SmtpSession(store, session_id="hop", peer="192.0.2.10:49152",
                         config=SessionConfig(hostname="mx.ejemplo.test", role="mx", domains=("ejemplo.test",)))
    body = b"Subject: puntos\r\n\r\n.una linea con punto\r\n.\r\nfin\r\n"
    client = SmtpClient("mailsim.test", "alice@mailsim.test", ["carmen@ejemplo.test"], body)
    server.start()
    while not client.done:
        client.receive_data(server.data_to_send())
        server.receive_data(client.data_to_send())
    assert client.outcomes["carmen@ejemplo.test"].outcome is Outcome.DELIVERED
    stored = store.mailbox("carmen", "INBOX").messages[-1].raw
    assert stored.endswith(body)  # unstuffed again, byte for byte
    assert b"by mx.ejemplo.test (mailsim) with ESMTP" in stored and b"from mailsim.test (192.0.2.10)" in stored
