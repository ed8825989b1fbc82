"""Item 2: a client that does not read its answers stops being served, and costs the
server at most a few of its output chunks; when it reads again, everything arrives
complete and in order."""

from __future__ import annotations

import time

import pytest
from net_helpers import Client, connection_stats, serving, wait_for

from mailsim.events import Protocol
from mailsim.protocol.pop3 import unstuffed
from mailsim.store.model import INBOX
from mailsim.transport.limits import ServerLimits

pytestmark = pytest.mark.network

CHUNK = 32 * 1024
LIMITS = ServerLimits(stream_chunk=CHUNK, write_buffer=16 * 1024)
# What one stalled client may hold on the server: the transport's buffer mark plus
# one chunk handed over, and one more chunk rendered ahead in the engine.
BOUND = 16 * 1024 + 3 * CHUNK


def big_message(size: int) -> bytes:
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv\r\n"
    head = b"From: bob@mailsim.test\r\nTo: alice@mailsim.test\r\nSubject: big\r\n\r\n"
    return head + line * (size // len(line)) + b".starts with a dot\r\n"


def settled(running, protocol: str) -> dict:
    """The stalled connection's figures once they stop changing."""
    last = None
    for _ in range(200):
        stats = [s for s in connection_stats(running) if s["protocol"] == protocol]
        if stats and stats == last and stats[0]["paused"]:
            return stats[0]
        last = stats
        time.sleep(0.03)
    raise AssertionError(f"the connection did not settle: {last}")


def test_pop3_pipelined_retr_without_reading_is_bounded(store) -> None:
    raw = big_message(400 * 1024)
    store.append("alice", INBOX, raw)
    number = len(store.mailbox("alice", INBOX).messages)
    with serving(store, limits=LIMITS) as running:
        client = Client(running.ports[Protocol.POP3], rcvbuf=4096)
        client.until(b">\r\n")
        client.send(b"USER alice\r\nPASS wonderland\r\n")
        client.until(b"octets)\r\n")
        count = 30
        client.send(b"".join(b"RETR %d\r\n" % number for _ in range(count)) + b"NOOP\r\n")
        stalled = settled(running, "pop3")
        assert stalled["transport"] + stalled["engine"] <= BOUND, stalled
        # The rest is one answer queued by reference to the stored message, not 30 copies.
        assert stalled["referenced"] <= len(raw) + 2 * CHUNK, stalled
        # Now read it all: every copy arrives whole, in order, then the NOOP's answer.
        for _ in range(count):
            header = client.until(b"\r\n")
            assert header.startswith(b"+OK ")
            body = client.until(b"\r\n.\r\n", timeout=30)[:-3]
            assert unstuffed(body) == raw
        assert client.until(b"\r\n") == b"+OK\r\n"
        client.close()


def test_imap_fetch_with_a_byte_trickle_and_no_reading_is_bounded(store) -> None:
    for _ in range(12):
        store.append("alice", INBOX, big_message(800 * 1024))
    with serving(store, limits=LIMITS) as running:
        client = Client(running.ports[Protocol.IMAP], rcvbuf=4096)
        client.until(b"ready\r\n")
        client.send(b"a LOGIN alice wonderland\r\nb SELECT INBOX\r\n")
        client.until(b"b OK")
        client.until(b"\r\n")
        client.send(b"c FETCH 1:* BODY.PEEK[]\r\n")
        # One byte at a time of the next command, while reading nothing.
        for byte in b"d NOOP\r\n":
            client.send(bytes([byte]))
            time.sleep(0.02)
        stalled = settled(running, "imap")
        assert stalled["transport"] + stalled["engine"] <= BOUND, stalled
        answer = client.until(b"c OK FETCH completed\r\n", timeout=30)
        total = len(running.call(lambda: store.mailbox("alice", INBOX).messages))
        assert answer.count(b" FETCH (BODY[] {") == total
        assert client.until(b"\r\n") == b"d OK NOOP completed\r\n"
        client.close()


def test_a_stalled_client_does_not_slow_another(store) -> None:
    store.append("alice", INBOX, big_message(400 * 1024))
    number = len(store.mailbox("alice", INBOX).messages)
    with serving(store, limits=LIMITS) as running:
        stalled = Client(running.ports[Protocol.POP3], rcvbuf=4096)
        stalled.until(b">\r\n")
        stalled.send(b"USER alice\r\nPASS wonderland\r\n" + b"RETR %d\r\n" % number * 30)
        wait_for(lambda: any(s["paused"] for s in connection_stats(running)))
        other = Client(running.ports[Protocol.IMAP])
        other.until(b"ready\r\n")
        other.send(b"a LOGIN bob builder\r\na2 LOGOUT\r\n")
        assert b"a2 OK" in other.to_close()
        stalled.close()


def test_a_client_that_never_reads_is_dropped_at_its_idle_timeout(store) -> None:
    """Its goodbye would only wait in memory behind what it did not read: the
    connection is simply dropped, and its slot and buffers go with it."""
    store.append("alice", INBOX, big_message(400 * 1024))
    number = len(store.mailbox("alice", INBOX).messages)
    with serving(store, idle_timeout=0.5, limits=LIMITS) as running:
        stalled = Client(running.ports[Protocol.POP3], rcvbuf=4096)
        stalled.until(b">\r\n")
        stalled.send(b"USER alice\r\nPASS wonderland\r\n" + b"RETR %d\r\n" % number * 30)
        wait_for(lambda: any(s["paused"] for s in connection_stats(running)))
        wait_for(lambda: running.call(lambda: len(running.servers.connections)) == 0, timeout=5)
        stalled.close()
