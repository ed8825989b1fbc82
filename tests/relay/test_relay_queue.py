"""The outgoing queue and its runner, with no event loop: routes, retries with backoff,
giving up, bounces, greylisting; and the world file's domains and DNS."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Event, RelayHop, Reply
from mailsim.protocol.relay import QueueRunner
from mailsim.protocol.smtp import SmtpSession
from mailsim.store.dns import Domain, Greylisting
from mailsim.store.queue import Outcome, QueueStatus, RetryPolicy
from mailsim.store.store import MailStore
from mailsim.store.world import WorldError, build_store, load_world

START = 1_790_000_000.0


@pytest.fixture
def world() -> MailStore:
    return build_store(clock=FixedClock(START), ids=SequentialIds("Q"))


def submit(store: MailStore, *recipients: str, user: str = "alice", password: str = "wonderland",
           sender: str = "alice@mailsim.test", subject: str = "Prueba") -> SmtpSession:
    """Alice's client submits one message to her home server (AUTH PLAIN)."""
    session = SmtpSession(store, session_id="console-smtp-1", peer="198.51.100.7:40000")
    session.start()
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    lines = ["EHLO pc-alice.example", f"AUTH PLAIN {token}", f"MAIL FROM:<{sender}>",
             *(f"RCPT TO:<{r}>" for r in recipients), "DATA", f"Subject: {subject}\r\n\r\nHola.\r\n."]
    for line in lines:
        session.receive_data(line.encode() + b"\r\n")
    assert session.data_to_send().endswith(b"\r\n") and session.state.value == "greeted"
    return session


def last_bounce(store: MailStore, account: str = "alice"):
    raw = store.mailbox(account, "INBOX").messages[-1].raw
    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    text, status, headers = message.get_payload()
    per_message, *per_recipient = status.get_payload()
    return message, per_message, per_recipient, headers


def test_a_relayed_message_reaches_carmen_through_the_mx(world: MailStore) -> None:
    events: list[Event] = []
    submit(world, "carmen@ejemplo.test")
    [entry] = world.queue.entries
    assert entry.status is QueueStatus.QUEUED and world.queue.next_due() == START
    QueueRunner(world, events.append).run_due()
    assert entry.status is QueueStatus.DELIVERED
    attempt = entry.last
    assert (attempt.host, attempt.address, attempt.code) == ("mx.ejemplo.test", "198.51.100.25", "250")
    hop = next(e for e in events if isinstance(e, RelayHop))
    assert (hop.server_host, hop.client_host, hop.session_id) == ("mx.ejemplo.test", "mailsim.test", attempt.session_id)
    greeting = next(e for e in events if isinstance(e, Reply))
    assert greeting.text == "mx.ejemplo.test ESMTP mailsim ready"
    raw = world.mailbox("carmen", "INBOX").messages[-1].raw
    message = message_from_bytes(raw, policy=policy.default)
    received = message.get_all("Received")
    assert len(received) == 2
    assert "by mx.ejemplo.test" in received[0] and "from mailsim.test (192.0.2.10)" in received[0]
    assert "by mailsim.test" in received[1] and "with ESMTPA" in received[1]
    assert message["Return-Path"] == "<alice@mailsim.test>"


def test_unknown_user_at_the_other_domain_bounces_at_once(world: MailStore) -> None:
    submit(world, "nadie@ejemplo.test", subject="A nadie")
    QueueRunner(world, lambda e: None).run_due()
    [entry] = world.queue.entries
    assert entry.status is QueueStatus.BOUNCED and len(entry.attempts) == 1
    message, per_message, [recipient], headers = last_bounce(world)
    assert message["From"] == "Mail Delivery System <MAILER-DAEMON@mailsim.test>"
    assert message["To"] == "alice@mailsim.test" and message["Auto-Submitted"] == "auto-replied"
    assert per_message["Reporting-MTA"] == "dns; mailsim.test"
    assert recipient["Final-Recipient"] == "rfc822; nadie@ejemplo.test"
    assert (recipient["Action"], recipient["Status"]) == ("failed", "5.1.1")
    assert recipient["Remote-MTA"] == "dns; mx.ejemplo.test"
    assert recipient["Diagnostic-Code"] == "smtp; 550 5.1.1 <nadie@ejemplo.test>: no such user here"
    assert headers.get_content_type() == "text/rfc822-headers"
    assert "Subject: A nadie" in headers.get_content()
    raw = world.mailbox("alice", "INBOX").messages[-1].raw
    assert raw.startswith(b"Return-Path: <>\r\nReceived: by mailsim.test (mailsim)")


@pytest.mark.parametrize(
    ("recipient", "status", "diagnostic"),
    [("x@nada.test", "5.1.2", "Host or domain name not found"), ("x@sin-correo.test", "5.1.10", "nullMX")],
)
def test_no_route_bounces_without_a_session(world: MailStore, recipient: str, status: str, diagnostic: str) -> None:
    events: list[Event] = []
    submit(world, recipient)
    QueueRunner(world, events.append).run_due()
    assert events == []  # nobody to talk to: no relay session
    _, _, [block], _ = last_bounce(world)
    assert block["Status"] == status and block["Action"] == "failed"
    assert block["Diagnostic-Code"].startswith("x-mailsim; ") and diagnostic in block["Diagnostic-Code"]
    assert block["Remote-MTA"] is None


def test_retries_back_off_and_then_give_up_with_a_bounce(world: MailStore) -> None:
    """caido.test (in the default world's DNS) has an MX whose host never answers."""
    assert world.dns.route("caido.test").hosts == (("mx.caido.test", "203.0.113.9"),)
    world.queue.policy = RetryPolicy(first_delay=60, factor=2, max_delay=200, max_attempts=4)
    submit(world, "luis@caido.test")
    runner = QueueRunner(world, lambda e: None)
    [entry] = world.queue.entries
    times = []
    while not entry.status.final:
        due = world.queue.next_due()
        world.clock.advance(due - world.clock.now())  # the fast-forward
        times.append(world.clock.now())
        runner.run_due()
    assert [t - START for t in times] == [0, 60, 180, 380]  # 60, 120, then capped at 200
    assert [a.outcome for a in entry.attempts] == [Outcome.TRANSIENT] * 4
    assert entry.status is QueueStatus.BOUNCED
    _, _, [block], _ = last_bounce(world)
    assert block["Status"] == "4.4.1" and block["Action"] == "failed"
    assert "Connection refused" in block["Diagnostic-Code"] and block["Remote-MTA"] == "dns; mx.caido.test"


def test_a_greylisting_domain_is_retried_and_delivered(world: MailStore) -> None:
    world.domains["ejemplo.test"].greylisting = Greylisting(delay=300)
    events: list[Event] = []
    alice_before = len(world.mailbox("alice", "INBOX").messages)
    submit(world, "carmen@ejemplo.test", subject="Tarde")
    runner = QueueRunner(world, events.append)
    runner.run_due()
    [entry] = world.queue.entries
    assert entry.status is QueueStatus.DEFERRED
    assert (entry.last.code, entry.last.enhanced) == ("450", "4.2.0")
    assert entry.next_attempt == START + 60
    runner.run_due()  # not due yet: nothing happens
    assert len(entry.attempts) == 1
    for _ in range(3):  # 60 s, then 120 s: still within the 300 s; then 240 s
        world.clock.advance(world.queue.next_due() - world.clock.now())
        runner.run_due()
    assert [a.code for a in entry.attempts] == ["450", "450", "450", "250"]
    assert entry.status is QueueStatus.DELIVERED
    hops = [e for e in events if isinstance(e, RelayHop)]
    assert [h.attempt for h in hops] == [1, 2, 3, 4] and len({h.session_id for h in hops}) == 4
    assert len(world.mailbox("alice", "INBOX").messages) == alice_before  # no bounce: a 4xx is no failure
    assert b"Subject: Tarde" in world.mailbox("carmen", "INBOX").messages[-1].raw


def test_bounces_are_never_bounced(world: MailStore) -> None:
    """A failed message with the null sender (a bounce itself) is dropped."""
    submit(world, "x@nada.test", sender="")
    before = len(world.mailbox("alice", "INBOX").messages)
    QueueRunner(world, lambda e: None).run_due()
    assert world.queue.entries[0].status is QueueStatus.BOUNCED
    assert len(world.mailbox("alice", "INBOX").messages) == before


def test_the_mx_role_refuses_auth_and_relaying(world: MailStore) -> None:
    from mailsim.protocol.relay import mx_config

    session = SmtpSession(world, session_id="mx", peer="203.0.113.5:1", config=mx_config(world, "mx.ejemplo.test"))
    session.start()
    for line in ["EHLO spammer.example", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", "MAIL FROM:<x@y.test>",
                 "RCPT TO:<alice@mailsim.test>", "RCPT TO:<carmen@ejemplo.test>"]:
        session.receive_data(line.encode() + b"\r\n")
    out = session.data_to_send().decode()
    assert "AUTH" not in out.split("502")[0]  # not offered in EHLO
    assert "502 5.5.1 AUTH not available" in out
    assert "554 5.7.1 <alice@mailsim.test>: Relay access denied" in out
    assert "250 2.1.5 Recipient <carmen@ejemplo.test> ok" in out


def test_the_submission_role_wants_auth_first(world: MailStore) -> None:
    from mailsim.protocol.base import SessionConfig

    session = SmtpSession(world, session_id="sub", config=SessionConfig(hostname="mailsim.test", role="submission"))
    session.start()
    session.receive_data(b"EHLO pc\r\nMAIL FROM:<alice@mailsim.test>\r\n")
    assert session.data_to_send().endswith(b"530 5.7.0 Authentication required\r\n")


def test_default_world_domains_dns_and_logins() -> None:
    store = build_store()
    assert set(store.domains) == {"mailsim.test", "ejemplo.test"}
    assert store.domains["ejemplo.test"].hostname == "mx.ejemplo.test"
    assert store.dns.route("ejemplo.test").hosts == (("mx.ejemplo.test", "198.51.100.25"),)
    assert store.authenticate("carmen", "castillo").address == "carmen@ejemplo.test"
    assert store.authenticate("carmen@ejemplo.test", "castillo") is not None
    assert store.authenticate("carmen@mailsim.test", "castillo") is None
    assert len(store.mailbox("carmen", "INBOX").messages) == 3
    # postmaster is an alias in both domains: each address finds its own account
    assert store.resolve("postmaster@mailsim.test").name == "alice"
    assert store.resolve("postmaster@ejemplo.test", ["ejemplo.test"]).name == "carmen"
    assert store.resolve("carmen@ejemplo.test") is None  # not the home domain's to deliver


def test_an_ambiguous_login_needs_the_full_address() -> None:
    store = MailStore("a.test")
    store.add_domain(Domain("b.test"))
    first = store.add_account("ana", "uno")
    second = store.add_account("ana", "dos", domain="b.test")
    assert (first.name, second.name, second.address) == ("ana", "ana@b.test", "ana@b.test")
    assert store.authenticate("ana", "uno") is None and store.authenticate("ana", "dos") is None
    assert store.authenticate("ana@a.test", "uno") is first
    assert store.authenticate("ana@b.test", "dos") is second


WORLD_HEAD = 'format_version = 1\ndomain = "a.test"\n'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[[dns]]\nname = "a.test"\ntype = "CNAME"\nvalue = "b.test"\n', 5, "DNS record type 'CNAME' is not one of MX, A"),
        ('[[dns]]\nname = "mx.a.test"\ntype = "A"\nvalue = "300.1.2.3"\n', 6, "is not an IPv4 address"),
        ('[[dns]]\nname = "a.test"\ntype = "MX"\npreference = -1\nvalue = "mx.a.test"\n', 6, "preference must be"),
        ('[[accounts]]\nname = "x"\npassword = "y"\ndomain = "nowhere.test"\n', 6, "not a domain of this world"),
        ('[[domains]]\nname = "b.test"\ngreylist_delay = "soon"\n', 5, "greylist_delay must be"),
        ('[[domains]]\nname = "a.test"\n', 4, "declared twice"),
    ],
)
def test_world_file_errors_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "world.toml"
    path.write_text(WORLD_HEAD + text, encoding="utf-8")
    with pytest.raises(WorldError) as caught:
        load_world(path)
    assert caught.value.line == line and message in caught.value.message


def test_a_bounce_for_a_sender_in_another_domain_travels_like_mail(world: MailStore) -> None:
    """carmen (ejemplo.test) sends through mailsim.test to a domain that does not exist:
    the bounce is queued from <> and relayed to her own domain's MX."""
    events: list[Event] = []
    submit(world, "x@nada.test", user="carmen", password="castillo", sender="carmen@ejemplo.test")
    runner = QueueRunner(world, events.append)
    runner.run_due()  # the failure, and the bounce queued
    bounce = world.queue.entries[-1]
    assert (bounce.message.sender, bounce.recipient) == ("", "carmen@ejemplo.test")
    runner.run_due()  # the bounce relayed
    assert bounce.status is QueueStatus.DELIVERED
    sent = [e.data for e in events if e.kind == "client"]
    assert b"MAIL FROM:<>\r\n" in sent
    _, _, [block], _ = last_bounce(world, "carmen")
    assert block["Final-Recipient"] == "rfc822; x@nada.test" and block["Status"] == "5.1.2"


def test_an_engine_failure_during_a_hop_is_retried_not_fatal(world: MailStore, monkeypatch) -> None:
    """A bug in a hop (here: the MX engine raising) leaves the message queued for a retry."""
    submit(world, "carmen@ejemplo.test")
    runner = QueueRunner(world, lambda e: None)

    def broken(self, argument: str) -> None:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(SmtpSession, "_rcpt", broken)
    runner.run_due()
    [entry] = world.queue.entries
    assert entry.status is QueueStatus.DEFERRED and (entry.last.code, entry.last.enhanced) == ("451", "4.3.0")
    monkeypatch.undo()
    world.clock.advance(world.queue.next_due() - world.clock.now())
    runner.run_due()
    assert entry.status is QueueStatus.DELIVERED


def test_a_world_file_with_its_own_domains_dns_and_greylisting(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    path.write_text(WORLD_HEAD + """
[[domains]]
name = "b.test"
hostname = "mail.b.test"
greylist_delay = 120

[[accounts]]
name = "ana"
password = "uno"

[[accounts]]
name = "ana"
domain = "b.test"
password = "dos"

[[dns]]
name = "b.test"
type = "MX"
value = "mail.b.test"

[[dns]]
name = "mail.b.test"
type = "A"
value = "192.0.2.77"
""", encoding="utf-8")
    store = build_store(load_world(path))
    assert store.domains["b.test"].hostname == "mail.b.test"
    assert store.domains["b.test"].greylisting.delay == 120
    assert store.dns.route("b.test").hosts == (("mail.b.test", "192.0.2.77"),)
    assert store.authenticate("ana", "uno") is None  # two domains have an ana
    assert store.authenticate("ana@b.test", "dos").address == "ana@b.test"
