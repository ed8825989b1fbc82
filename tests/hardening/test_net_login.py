"""Item 4: login guessing is slowed and locked out per account and per address, across
the three protocols, and a connection is closed after a few failures."""

from __future__ import annotations

import base64
import imaplib

import pytest
from net_helpers import Client, serving

from mailsim.events import Protocol
from mailsim.protocol.throttle import LoginPolicy, LoginThrottle
from mailsim.transport.limits import ServerLimits

pytestmark = pytest.mark.network

# -- the throttle itself, on an injected clock ------------------------------------------


def test_the_delay_doubles_per_failure_up_to_the_cap() -> None:
    throttle = LoginThrottle(LoginPolicy(max_delay=8.0, lockout_after=100))
    delays = [throttle.delay(1.0, throttle.failed("alice", "10.0.0.1", 100.0 + n)) for n in range(6)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_lock_out_per_address_then_lifted_after_the_lockout() -> None:
    throttle = LoginThrottle(LoginPolicy(lockout_after=3, lockout=60.0, window=600.0))
    for n, name in enumerate(("x1", "x2", "x3")):  # three names: the address is what repeats
        assert throttle.locked(name, "10.0.0.1", 100.0 + n) is None
        throttle.failed(name, "10.0.0.1", 100.0 + n)
    lock = throttle.locked("alice", "10.0.0.1", 110.0)
    assert lock is not None and lock.scope == "address" and lock.seconds == 52
    assert throttle.locked("alice", "10.0.0.2", 110.0) is None  # another address is free
    assert throttle.locked("alice", "10.0.0.1", 163.0) is None  # 60 s after the last failure


def test_lock_out_per_account_spares_addresses_that_logged_in_before() -> None:
    throttle = LoginThrottle(LoginPolicy(lockout_after=4, lockout=60.0))
    throttle.succeeded("bob", "10.0.0.9", 50.0)
    for n in range(4):  # four guessers, one guess each
        throttle.failed("bob", f"10.0.1.{n}", 100.0)
    lock = throttle.locked("Bob", "10.0.2.1", 101.0)
    assert lock is not None and lock.scope == "account"
    assert throttle.locked("bob", "10.0.0.9", 101.0) is None  # bob's own machine


def test_old_failures_are_forgotten_and_a_flood_of_names_is_bounded() -> None:
    throttle = LoginThrottle(LoginPolicy(lockout_after=3, lockout=60.0, window=300.0, max_tracked=100))
    throttle.failed("carol", "10.0.0.1", 0.0)
    throttle.failed("carol", "10.0.0.1", 1.0)
    assert throttle.failures("account", "carol", 400.0) == 0
    for n in range(1000):
        throttle.failed(f"name{n}", f"10.1.{n // 250}.{n % 250}", 500.0 + n / 1000)
    assert len(throttle._records) <= 100 + 2


# -- over the wire ----------------------------------------------------------------------


def pop3_pass(client: Client, user: bytes, password: bytes) -> bytes:
    client.send(b"USER " + user + b"\r\nPASS " + password + b"\r\n")
    client.until(b"\r\n")  # +OK Send PASS
    return client.until(b"\r\n")


def test_imap_hangs_up_after_the_fourth_failure_on_a_connection(store) -> None:
    with serving(store) as running:
        client = Client(running.ports[Protocol.IMAP])
        client.until(b"ready\r\n")
        for n in range(3):
            client.send(b"a%d LOGIN alice guess%d\r\n" % (n, n))
            assert client.until(b"\r\n") == b"a%d NO [AUTHENTICATIONFAILED] Invalid user name or password\r\n" % n
        client.send(b"a3 LOGIN alice guess3\r\n")
        assert client.to_close() == (
            b"a3 NO [AUTHENTICATIONFAILED] Invalid user name or password\r\n"
            b"* BYE Too many failed logins, closing connection\r\n"
        )


def test_pop3_and_smtp_hang_up_too(store) -> None:
    with serving(store, limits=ServerLimits(login=LoginPolicy(max_delay=0.05))) as running:
        pop = Client(running.ports[Protocol.POP3])
        pop.until(b">\r\n")
        for n in range(3):
            assert pop3_pass(pop, b"alice", b"guess%d" % n) == b"-ERR [AUTH] Invalid user name or password\r\n"
        pop.send(b"USER alice\r\nPASS guess3\r\n")
        assert pop.to_close().endswith(
            b"-ERR [AUTH] Invalid user name or password\r\n-ERR [AUTH] Too many failed logins, closing connection\r\n"
        )
        smtp = Client(running.ports[Protocol.SMTP])
        smtp.until(b"ready\r\n")
        smtp.send(b"EHLO guesser\r\n")
        smtp.until(b"250 HELP\r\n")
        for n in range(4):
            smtp.send(b"AUTH PLAIN " + base64.b64encode(b"\0alice\0guess%d" % n) + b"\r\n")
        assert smtp.to_close().split(b"\r\n")[-3:] == [
            b"535 5.7.8 Authentication credentials invalid",
            b"421 4.7.0 mailsim.test Too many failed authentications, closing connection",
            b"",
        ]


def test_parallel_guessing_from_one_address_is_locked_across_protocols(store) -> None:
    limits = ServerLimits(login=LoginPolicy(lockout_after=6, lockout=120.0, max_delay=0.05))
    with serving(store, limits=limits) as running:
        # Six guesses for six made-up names over three parallel POP3 connections.
        clients = [Client(running.ports[Protocol.POP3]) for _ in range(3)]
        for client in clients:
            client.until(b">\r\n")
        for n in range(6):
            reply = pop3_pass(clients[n % 3], b"user%d" % n, b"guess")
            assert reply == b"-ERR [AUTH] Invalid user name or password\r\n"
        # Now even the right password is refused from this address, in every protocol.
        assert pop3_pass(clients[0], b"alice", b"wonderland").startswith(
            b"-ERR [SYS/TEMP] Too many failed logins for this address; try again in "
        )
        imap = Client(running.ports[Protocol.IMAP])
        imap.until(b"ready\r\n")
        imap.send(b"a LOGIN alice wonderland\r\n")
        assert imap.until(b"\r\n").startswith(b"a NO [UNAVAILABLE] Too many failed logins for this address; try again in ")
        smtp = Client(running.ports[Protocol.SMTP])
        smtp.until(b"ready\r\n")
        smtp.send(b"EHLO x\r\nAUTH PLAIN " + base64.b64encode(b"\0alice\0wonderland") + b"\r\n")
        smtp.until(b"250 HELP\r\n")
        assert smtp.until(b"\r\n").startswith(
            b"454 4.7.0 Temporary authentication failure: too many failed logins for this address; try again in "
        )
        # A student at another address logs in as usual.
        other = Client(running.ports[Protocol.POP3], source="127.0.0.2")
        other.until(b">\r\n")
        assert pop3_pass(other, b"alice", b"wonderland").startswith(b"+OK alice's maildrop has ")
        for client in [*clients, imap, smtp, other]:
            client.close()


def test_guessing_one_account_from_many_addresses_locks_the_account(store) -> None:
    limits = ServerLimits(login=LoginPolicy(lockout_after=4, lockout=120.0))
    with serving(store, limits=limits) as running:
        own = imaplib.IMAP4("127.0.0.1", running.ports[Protocol.IMAP])  # bob's own machine, before
        own.login("bob", "builder")
        own.logout()
        for n in range(4):
            guesser = Client(running.ports[Protocol.IMAP], source=f"127.0.1.{n + 1}")
            guesser.until(b"ready\r\n")
            guesser.send(b"a LOGIN bob guess%d\r\n" % n)
            assert guesser.until(b"\r\n").startswith(b"a NO [AUTHENTICATIONFAILED]")
            guesser.close()
        fresh = Client(running.ports[Protocol.IMAP], source="127.0.2.1")
        fresh.until(b"ready\r\n")
        fresh.send(b"a LOGIN bob builder\r\n")
        assert fresh.until(b"\r\n").startswith(b"a NO [UNAVAILABLE] Too many failed logins for this account; try again in ")
        fresh.close()
        # The address bob used before is not locked out of his account.
        again = imaplib.IMAP4("127.0.0.1", running.ports[Protocol.IMAP])
        assert again.login("bob", "builder")[0] == "OK"
        again.logout()
