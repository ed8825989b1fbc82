"""The world's servers on real sockets, driven by real clients: smtplib submits with
AUTH, the queue relays to ejemplo.test's MX, imaplib reads what arrived — the
message in carmen's INBOX, or the bounce in alice's."""

from __future__ import annotations

import asyncio
import imaplib
import smtplib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy

import pytest

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Event, Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.store.changes import QueueEntryChanged, StoreChange
from mailsim.store.dns import Greylisting
from mailsim.store.store import MailStore
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus
from mailsim.transport.tcp import ServerOptions
from mailsim.transport.world import WorldOptions, WorldServers

pytestmark = pytest.mark.network


@dataclass
class World:
    store: MailStore
    servers: WorldServers
    loop: asyncio.AbstractEventLoop
    events: list[Event] = field(default_factory=list)
    changes: list[StoreChange] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def port(self, label: str, protocol: Protocol = Protocol.SMTP) -> int:
        return self.servers.port(label, protocol)

    def call(self, func: Callable, *args):
        async def run():
            return func(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def on_change(self, change: StoreChange) -> None:
        with self._changed:
            self.changes.append(change)
            self._changed.notify_all()

    def wait_queue(self, status: str, count: int = 1) -> list[QueueEntryChanged]:
        """Wait until `count` queue attempts have ended in `status` (no polling sleep)."""
        def done() -> list[QueueEntryChanged]:
            return [c for c in self.changes if isinstance(c, QueueEntryChanged) and c.status == status]

        with self._changed:
            assert self._changed.wait_for(lambda: len(done()) >= count, timeout=10), self.changes
            return done()


@pytest.fixture
def world() -> Iterator[World]:
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))
    bus = Bus()
    loop = asyncio.new_event_loop()
    options = ServerOptions(ports={p: 0 for p in Protocol},
                            session_config=SessionConfig(hostname=store.domain, auth_failure_delay=0.05))
    servers = WorldServers(store, bus, options, WorldOptions(submission_port=0))
    running = World(store, servers, loop)
    bus.subscribe(running.events.append)
    store.subscribe(running.on_change)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(servers.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield running
    finally:
        asyncio.run_coroutine_threadsafe(servers.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def submit(world: World, recipient: str, subject: str, port_label: str = "submission") -> None:
    with smtplib.SMTP("127.0.0.1", world.port(port_label), timeout=10) as client:
        client.ehlo("pc-alice.example")
        client.login("alice", "wonderland")
        refused = client.sendmail("alice@mailsim.test", [recipient],
                                  f"From: alice@mailsim.test\r\nTo: {recipient}\r\nSubject: {subject}\r\n\r\nHola.\r\n")
        assert refused == {}


def read_last(world: World, user: str, password: str) -> bytes:
    with imaplib.IMAP4("127.0.0.1", world.port("mailsim.test", Protocol.IMAP), timeout=10) as client:
        client.login(user, password)
        typ, data = client.select("INBOX", readonly=True)
        assert typ == "OK"
        typ, fetched = client.fetch(data[0].decode(), "(BODY.PEEK[])")
        assert typ == "OK"
        return fetched[0][1]


def test_smtplib_submission_to_carmen_arrives_with_two_received_headers(world: World) -> None:
    submit(world, "carmen@ejemplo.test", "De un dominio a otro")
    world.wait_queue("delivered")
    raw = read_last(world, "carmen", "castillo")
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "De un dominio a otro"
    first_hop, submission = message.get_all("Received")
    assert submission.startswith("from pc-alice.example (127.0.0.1)") and "by mailsim.test (mailsim) with ESMTPA" in submission
    assert first_hop.startswith("from mailsim.test (192.0.2.10)") and "by mx.ejemplo.test (mailsim) with ESMTP " in first_hop
    assert message["Return-Path"] == "<alice@mailsim.test>"
    hop_sessions = {e.session_id for e in world.events if e.session_id.startswith("relay-smtp-")}
    assert len(hop_sessions) == 1


def test_unknown_user_at_ejemplo_returns_a_multipart_report_to_alice(world: World) -> None:
    submit(world, "nadie@ejemplo.test", "Para nadie", port_label="mailsim.test")  # 2525 with AUTH relays too
    world.wait_queue("bounced")
    raw = read_last(world, "alice", "wonderland")
    report = message_from_bytes(raw, policy=policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    _text, status, headers = report.get_payload()
    assert status.get_content_type() == "message/delivery-status"
    _per_message, recipient = status.get_payload()
    assert recipient["Final-Recipient"] == "rfc822; nadie@ejemplo.test"
    assert recipient["Status"] == "5.1.1" and recipient["Action"] == "failed"
    assert "Subject: Para nadie" in headers.get_content()


def test_a_greylisted_hop_is_retried_and_delivered(world: World) -> None:
    world.call(lambda: setattr(world.store.domains["ejemplo.test"], "greylisting", Greylisting(delay=90)))
    submit(world, "carmen@ejemplo.test", "Con paciencia")
    world.wait_queue("deferred")
    skipped = world.call(world.servers.scheduler.fast_forward)  # the app's fast-forward key
    assert skipped == 60
    world.wait_queue("deferred", 2)  # 60 s after the first try: still greylisted
    assert world.call(world.servers.scheduler.fast_forward) == 120
    world.wait_queue("delivered")
    codes = world.call(lambda: [a.code for a in world.store.queue.entries[0].attempts])
    assert codes == ["450", "450", "250"]
    assert b"Subject: Con paciencia" in read_last(world, "carmen", "castillo")


def test_the_mx_port_takes_mail_for_its_domain_only_and_no_login(world: World) -> None:
    with smtplib.SMTP("127.0.0.1", world.port("ejemplo.test (MX)"), timeout=10) as client:
        code, banner = client.ehlo("mail.elsewhere.example")
        assert code == 250 and banner.startswith(b"mx.ejemplo.test greets")
        assert not client.has_extn("auth")
        client.mail("someone@elsewhere.example")
        assert client.rcpt("alice@mailsim.test")[0] == 554  # no open relay
        assert client.rcpt("carmen@ejemplo.test")[0] == 250
        assert client.data(b"Subject: directo\r\n\r\nhola\r\n")[0] == 250
    raw = read_last(world, "carmen", "castillo")
    assert raw.count(b"Received: ") == 1 and b"by mx.ejemplo.test" in raw


def test_the_submission_port_wants_a_login(world: World) -> None:
    with smtplib.SMTP("127.0.0.1", world.port("submission"), timeout=10) as client:
        client.ehlo("pc")
        code, text = client.mail("alice@mailsim.test")
        assert code == 530 and b"5.7.0 Authentication required" in text
