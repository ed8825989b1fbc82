"""POP3 is not blamed for another session's expunge: messages an IMAP client removed
meanwhile answer -ERR, but those do not count toward the error limit, so the POP3
client keeps its session and its other marks."""

from __future__ import annotations

import imaplib
import poplib

import pytest
from running_servers import start_servers

from mailsim.events import Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.store.world import build_store

EXTRA = 14  # more than the error limit (10) of a POP3 session


@pytest.fixture
def store():
    store = build_store()
    for n in range(EXTRA):
        store.append("bob", "INBOX", b"Subject: extra %d\r\n\r\nx\r\n" % n)
    return store


@pytest.fixture
def servers(store):
    yield from start_servers(store, config=SessionConfig(hostname=store.domain, max_errors=10, auth_failure_delay=0.05))


def test_dele_of_messages_expunged_by_imap_does_not_end_the_session(servers, store) -> None:
    pop = poplib.POP3("127.0.0.1", servers.ports[Protocol.POP3], timeout=10)
    pop.user("bob")
    pop.pass_("builder")
    count = pop.stat()[0]
    assert count > EXTRA

    imap = imaplib.IMAP4("127.0.0.1", servers.ports[Protocol.IMAP])
    imap.login("bob", "builder")
    imap.select("INBOX")
    imap.store(f"1:{EXTRA}", "+FLAGS", "(\\Deleted)")
    imap.expunge()
    imap.logout()

    for number in range(1, EXTRA + 1):
        with pytest.raises(poplib.error_proto) as gone:
            pop.dele(number)
        assert gone.value.args[0] == b"-ERR Message %d was removed by another session" % number
    assert pop.noop().startswith(b"+OK")  # still connected: none of that was the client's fault
    assert pop.dele(count).startswith(b"+OK")
    assert pop.quit().startswith(b"+OK")
    left = servers.call(lambda: [m.raw for m in store.mailbox("bob", "INBOX").messages])
    assert len(left) == count - EXTRA - 1


def test_the_clients_own_errors_still_count(servers) -> None:
    pop = poplib.POP3("127.0.0.1", servers.ports[Protocol.POP3], timeout=10)
    pop.user("bob")
    pop.pass_("builder")
    for _ in range(10):
        with pytest.raises(poplib.error_proto):
            pop.dele(999)
    with pytest.raises(poplib.error_proto) as closed:
        pop.noop()
    assert closed.value.args[0] == b"-ERR Too many errors, closing connection"
