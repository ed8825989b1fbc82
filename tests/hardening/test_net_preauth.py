"""Item 1: before login only small literals and lines; memory goes when the client does."""

from __future__ import annotations

import base64
import gc
import weakref

import pytest
from net_helpers import Client, serving, wait_for

from mailsim.events import Protocol
from mailsim.protocol.base import SessionConfig

pytestmark = pytest.mark.network


def test_imap_login_literal_over_the_preauth_cap_is_refused_unread(store) -> None:
    with serving(store) as running:
        sock = Client(running.ports[Protocol.IMAP])
        sock.until(b"ready\r\n")
        sock.send(b"a LOGIN {26000000}\r\n")
        reply = sock.until(b"\r\n")
        assert reply == b"a NO [TOOBIG] Literal of 26000000 octets exceeds the limit of 8192 before login\r\n"
        # Nothing was asked for, so nothing is read: the session goes on.
        sock.send(b"b LOGIN alice {10}\r\n")
        assert sock.until(b"\r\n").startswith(b"+ ")
        sock.send(b"wonderland\r\n")
        assert sock.until(b"\r\n").startswith(b"b OK [CAPABILITY")
        # After login the usual limit holds again: 100 KiB is asked for.
        sock.send(b"c APPEND INBOX {102400}\r\n")
        assert sock.until(b"\r\n").startswith(b"+ Ready for 102400 octets")
        sock.send(b"x" * 102400 + b"\r\n")
        assert sock.until(b"\r\n").startswith(b"c OK [APPENDUID")
        sock.close()


def test_imap_literal_plus_over_the_preauth_cap_hangs_up(store) -> None:
    with serving(store) as running:
        sock = Client(running.ports[Protocol.IMAP])
        sock.until(b"ready\r\n")
        sock.send(b"a LOGIN {9000+}\r\n" + b"y" * 9000)
        rest = sock.to_close()
        assert b"a BAD Non-synchronizing literal of 9000 octets exceeds the limit of 8192 before login" in rest
        assert b"* BYE " in rest


def test_the_preauth_cap_is_configurable_and_counts_every_literal_of_a_command(store) -> None:
    config = SessionConfig(hostname=store.domain, auth_failure_delay=0.01, max_preauth_literal=16)
    with serving(store, config=config) as running:
        sock = Client(running.ports[Protocol.IMAP])
        sock.until(b"ready\r\n")
        sock.send(b"a LOGIN {10}\r\n")
        sock.until(b"\r\n")
        sock.send(b"0123456789 {10}\r\n")  # 20 octets of literals in one command
        assert b"a NO [TOOBIG] Literal of 10 octets exceeds the limit of 16 before login" in sock.until(b"login\r\n")
        sock.close()


@pytest.mark.parametrize(
    ("protocol", "greeting", "start", "refusal"),
    [
        (Protocol.SMTP, b"ready\r\n", b"EHLO x\r\nAUTH PLAIN\r\n", b"501 5.5.2"),
        (Protocol.POP3, b">\r\n", b"AUTH PLAIN\r\n", b"-ERR Line too long (limit 12288 octets)"),
        (Protocol.IMAP, b"ready\r\n", b"a AUTHENTICATE PLAIN\r\n", b"BAD Command line too long (limit 65536 octets)"),
    ],
)
def test_auth_continuation_lines_are_bounded_before_login(store, protocol, greeting, start, refusal) -> None:
    with serving(store) as running:
        sock = Client(running.ports[protocol])
        sock.until(greeting)
        sock.send(start)
        sock.until(b"\r\n334 " if protocol is Protocol.SMTP else b"+ ")
        sock.until(b"\r\n")
        flood = base64.b64encode(b"A" * 70000)  # over every protocol's AUTH line limit
        sock.send(flood + b"\r\n")
        assert refusal in sock.until(refusal, timeout=10)
        # The server kept none of it: the engine's input buffer is empty again.
        stats = running.call(lambda: [c.session.reader.buffered for c in running.servers.connections])
        assert stats == [0]
        sock.close()


def test_a_closed_connection_leaves_nothing_behind(store) -> None:
    """Sessions (and what their readers held) are freed when the clients go."""
    with serving(store) as running:
        socks = []
        for _ in range(5):
            sock = Client(running.ports[Protocol.IMAP])
            sock.until(b"ready\r\n")
            sock.send(b"a LOGIN alice {8000}\r\n" + b"z" * 7000)  # half a literal, held
            socks.append(sock)
        wait_for(lambda: sum(running.call(lambda: [c.session.reader.buffered for c in running.servers.connections])) >= 5 * 7000)
        refs = running.call(lambda: [weakref.ref(c.session) for c in running.servers.connections])
        assert len(refs) == 5
        for sock in socks:
            sock.close()
        wait_for(lambda: running.call(lambda: len(running.servers.connections)) == 0)

        def collected() -> bool:
            running.call(gc.collect)
            return all(ref() is None for ref in refs)

        wait_for(collected)
