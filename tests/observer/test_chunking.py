"""A relay or a socket cuts the byte streams anywhere: the observers say the same
whatever the cuts (hypothesis picks them), as long as each side's order is kept and a
server answers only what it has received."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from mailsim.clock import FixedClock
from mailsim.protocol.imap.observer import ImapObserver
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.pop3_observer import Pop3Observer
from mailsim.protocol.smtp import SmtpSession
from mailsim.protocol.smtp_observer import SmtpObserver
from tests.observer import test_imap, test_pop3, test_smtp
from tests.observer.equivalence import comparable, drive_engine, drive_observer

CASES = [
    (SmtpSession, SmtpObserver, test_smtp.DIALOGS["pipelined (RFC 2920)"]),
    (SmtpSession, SmtpObserver, test_smtp.DIALOGS["AUTH LOGIN, challenges and responses"]),
    (Pop3Session, Pop3Observer, test_pop3.DIALOGS["three states"]),
    (ImapSession, ImapObserver, test_imap.DIALOGS["synchronising literals"]),
    (ImapSession, ImapObserver, test_imap.DIALOGS["LITERAL+ octets sent at once"]),
    (ImapSession, ImapObserver, test_imap.DIALOGS["IDLE and DONE"]),
    (ImapSession, ImapObserver, test_imap.DIALOGS["select, fetch, store, expunge"]),
]
CONVERSATIONS = [(observer, drive_engine(engine, turns)) for engine, observer, turns in CASES]


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:]) if b > a]


@settings(max_examples=25, deadline=None)
@given(case=st.integers(0, len(CASES) - 1), cuts=st.lists(st.integers(0, 1 << 16), max_size=12))
def test_events_do_not_depend_on_where_the_bytes_were_cut(case: int, cuts: list[int]) -> None:
    observer, conversation = CONVERSATIONS[case]
    expected = comparable(drive_observer(observer, conversation))
    watcher = observer(session_id="s", peer="console", clock=FixedClock(1_790_000_000.0))
    watcher.start()
    for client, server in conversation.turns:
        for piece in _pieces(client, cuts):
            watcher.client_data(piece)
        for piece in _pieces(server, cuts[::-1]):
            watcher.server_data(piece)
    if conversation.closed:
        watcher.server_eof()
    assert comparable(watcher.events()) == expected
