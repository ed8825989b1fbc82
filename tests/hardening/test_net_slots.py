"""Item 3: connection slots per address and per protocol beside the global one, and a
deadline for finishing a command line (a trickle of bytes is not activity)."""

from __future__ import annotations

import select
import time

import pytest
from net_helpers import Client, serving, wait_for

from mailsim.events import Closed, Note, Protocol
from mailsim.transport.limits import ServerLimits

pytestmark = pytest.mark.network

GREETING = {Protocol.SMTP: b"ready\r\n", Protocol.POP3: b">\r\n", Protocol.IMAP: b"ready\r\n"}


def open_count(running) -> int:
    return running.call(lambda: len(running.servers.connections))


def test_one_address_at_its_maximum_leaves_others_served(store) -> None:
    with serving(store, limits=ServerLimits(max_per_address=3)) as running:
        held = []
        for protocol in (Protocol.IMAP, Protocol.IMAP, Protocol.POP3):
            client = Client(running.ports[protocol])
            client.until(GREETING[protocol])
            held.append(client)
        # The fourth from the same address is refused, in each protocol's own words.
        refusals = {
            Protocol.IMAP: b"* BYE [UNAVAILABLE] Too many connections from your address (limit 3), try again later\r\n",
            Protocol.POP3: b"-ERR [SYS/TEMP] Too many connections from your address (limit 3), try again later\r\n",
            Protocol.SMTP: b"421 4.7.0 mailsim.test Too many connections from your address (limit 3), try again later\r\n",
        }
        for protocol, refusal in refusals.items():
            assert Client(running.ports[protocol]).to_close() == refusal
        # Another address is served as usual, login included.
        other = Client(running.ports[Protocol.IMAP], source="127.0.0.2")
        other.until(b"ready\r\n")
        other.send(b"a LOGIN bob builder\r\n")
        assert other.until(b"\r\n").startswith(b"a OK")
        other.close()
        # A slot given back can be taken again.
        held.pop().close()
        wait_for(lambda: open_count(running) == 2)
        again = Client(running.ports[Protocol.SMTP])
        assert again.until(b"\r\n").startswith(b"220 ")
        for client in [*held, again]:
            client.close()


def test_one_protocol_full_leaves_the_others_served(store) -> None:
    with serving(store, limits=ServerLimits(max_per_protocol=2)) as running:
        held = [Client(running.ports[Protocol.SMTP], source=f"127.0.0.{n}") for n in (2, 3)]
        for client in held:
            client.until(b"ready\r\n")
        refused = Client(running.ports[Protocol.SMTP], source="127.0.0.4").to_close()
        assert refused == b"421 4.7.0 mailsim.test Too many connections, try again later\r\n"
        pop = Client(running.ports[Protocol.POP3], source="127.0.0.4")
        assert pop.until(b"\r\n").startswith(b"+OK ")
        for client in [*held, pop]:
            client.close()


def test_the_global_limit_still_holds(store) -> None:
    with serving(store, max_connections=2) as running:
        held = [Client(running.ports[Protocol.IMAP], source=f"127.0.0.{n}") for n in (2, 3)]
        for client in held:
            client.until(b"ready\r\n")
        assert Client(running.ports[Protocol.POP3], source="127.0.0.4").to_close() == (
            b"-ERR [SYS/TEMP] Too many connections, try again later\r\n"
        )
        for client in held:
            client.close()


def test_a_trickled_line_is_cut_at_the_deadline(store) -> None:
    with serving(store, idle_timeout=60, limits=ServerLimits(line_deadline=0.4)) as running:
        client = Client(running.ports[Protocol.SMTP])
        client.until(b"ready\r\n")
        started = time.monotonic()
        closed = b""
        for byte in b"EHLO trickle.example.with.a.long.name":
            try:
                client.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
            if time.monotonic() - started > 0.4:
                break
        closed = client.to_close(timeout=5)
        assert closed == b"421 4.4.2 mailsim.test Error: command not completed within 0.4 s\r\n"
        assert time.monotonic() - started < 5
        notes = [e for e in running.events if isinstance(e, Note) and e.key == "smtp.line-deadline"]
        assert notes and dict(notes[0].params)["seconds"] == "0.4"


def test_bytes_without_a_whole_command_do_not_reset_the_idle_timer(store) -> None:
    with serving(store, idle_timeout=0.5, limits=ServerLimits(line_deadline=0)) as running:
        client = Client(running.ports[Protocol.IMAP])
        client.until(b"ready\r\n")
        started = time.monotonic()
        # One byte each 50 ms for up to 3 s: before, each byte reset the timer.
        while time.monotonic() - started < 3:
            try:
                client.send(b"x")
            except OSError:
                break
            if select.select([client.sock], [], [], 0.05)[0]:
                break
        assert client.to_close(timeout=2) == b"* BYE Autologout; idle for too long\r\n"
        assert time.monotonic() - started < 2


def test_whole_commands_and_a_flowing_literal_are_activity(store) -> None:
    with serving(store, idle_timeout=0.4, limits=ServerLimits(line_deadline=0.3)) as running:
        client = Client(running.ports[Protocol.IMAP])
        client.until(b"ready\r\n")
        client.send(b"a LOGIN alice wonderland\r\n")
        client.until(b"a OK")
        for n in range(5):  # 0.6 s of NOOPs: longer than the idle timeout, never idle
            client.send(b"n%d NOOP\r\n" % n)
            client.until(b"n%d OK" % n)
            time.sleep(0.12)
        # A literal sent in pieces over longer than the deadline, still flowing.
        size = 8 * 64 * 1024
        client.send(b"b APPEND INBOX {%d}\r\n" % size)
        client.until(b"+ Ready")
        for _ in range(8):  # 0.64 s: over twice the deadline
            client.send(b"y" * (64 * 1024))
            time.sleep(0.08)
        client.send(b"\r\n")
        assert client.until(b"\r\n", timeout=5).endswith(b"\r\n")
        assert client.until(b"b OK", timeout=5)
        closed = [e for e in running.events if isinstance(e, Closed)]
        assert closed == []
        client.close()


def test_imap_says_why_when_the_deadline_cuts_a_command(store) -> None:
    with serving(store, idle_timeout=60, limits=ServerLimits(line_deadline=0.3)) as running:
        client = Client(running.ports[Protocol.IMAP])
        client.until(b"ready\r\n")
        client.send(b"a LOGIN alice won")  # and nothing more
        assert client.to_close(timeout=5) == b"* BYE Command not completed within 0.3 s\r\n"
        wait_for(lambda: open_count(running) == 0)
