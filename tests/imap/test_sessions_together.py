"""Two sessions on one mailbox, driven directly (sans-IO): what each is told, and when.

RFC 3501 §7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH; §5.2: changes
reported at NOOP, IDLE and the end of other commands; \\Recent in exactly one session.
"""

from __future__ import annotations

import pytest

from mailsim.events import Note, Reply, StateChanged
from mailsim.protocol.imap import ImapSession, ImapState


class Driver:
    def __init__(self, store, name: str) -> None:
        self.session = ImapSession(store, session_id=name)
        self.session.start()
        self.pushed = 0
        self.session.on_output = self._pushed
        self.events = []
        self.take()

    def _pushed(self) -> None:
        self.pushed += 1

    def take(self) -> list[bytes]:
        self.events += self.session.events()
        return self.session.data_to_send().split(b"\r\n")[:-1]

    def send(self, line: str) -> list[bytes]:
        self.session.receive_data(line.encode() + b"\r\n")
        return self.take()


@pytest.fixture
def pair(store):
    first, second = Driver(store, "one"), Driver(store, "two")
    for driver in (first, second):
        driver.send("a LOGIN alice wonderland")
    assert first.send("b SELECT INBOX")[3] == b"* 7 RECENT"
    assert second.send("b SELECT INBOX")[3] == b"* 0 RECENT"  # \Recent belongs to the first
    return first, second


def test_expunge_waits_for_a_command_that_allows_it(pair):
    first, second = pair
    second.send("c STORE 2 +FLAGS.SILENT (\\Deleted)")
    assert second.send("d EXPUNGE") == [b"* 2 EXPUNGE", b"d OK EXPUNGE completed"]
    fetch = first.send("e FETCH 2 (UID)")
    assert fetch == [b"* 2 FETCH (UID 2)", b"* 2 FETCH (FLAGS (\\Flagged \\Deleted \\Recent))", b"e OK FETCH completed"]
    assert any(isinstance(e, Note) and e.key == "imap.expunge-deferred" for e in first.events)
    assert first.send("f SEARCH ALL") == [b"* SEARCH 1 2 3 4 5 6 7", b"f OK SEARCH completed"]
    assert first.send("g NOOP") == [b"* 2 EXPUNGE", b"g OK NOOP completed"]
    assert first.send("h SEARCH ALL") == [b"* SEARCH 1 2 3 4 5 6", b"h OK SEARCH completed"]


def test_new_messages_and_flags_reported_at_end_of_command(pair, store):
    first, second = pair
    store.append("alice", "INBOX", b"Subject: new\r\n\r\nx\r\n")
    # EXISTS may come with any command's completion, even STORE's.
    assert second.send("c STORE 1 +FLAGS (\\Flagged)") == [
        b"* 1 FETCH (FLAGS (\\Flagged \\Seen))", b"* 8 EXISTS", b"* 0 RECENT", b"c OK STORE completed"
    ]
    lines = first.send("d NOOP")
    assert lines == [
        b"* 8 EXISTS",
        b"* 8 RECENT",
        b"* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))",
        b"d OK NOOP completed",
    ]
    assert second.send("e NOOP") == [b"e OK NOOP completed"]


def test_idle_pushes_at_once_and_asks_the_transport_to_send(pair, store):
    first, second = pair
    assert first.send("c IDLE") == [b"+ idling"]
    assert first.session.state is ImapState.IDLE
    second.send("d STORE 3 -FLAGS (\\Seen)")
    assert first.pushed == 1
    assert first.take() == [b"* 3 FETCH (FLAGS (\\Answered \\Recent))"]
    store.append("alice", "INBOX", b"Subject: ping\r\n\r\n")
    assert first.take() == [b"* 8 EXISTS", b"* 8 RECENT"]
    second.send("e STORE 1 +FLAGS.SILENT (\\Deleted)")
    second.send("f EXPUNGE")
    assert first.take()[-1] == b"* 1 EXPUNGE"
    assert first.send("DONE") == [b"c OK IDLE terminated"]
    states = [(e.old, e.new) for e in first.events if isinstance(e, StateChanged)]
    assert states[-2:] == [("selected", "idle"), ("idle", "selected")]


def test_other_mailboxes_and_accounts_are_ignored(pair, store):
    first, _ = pair
    store.append("alice", "Archive", b"Subject: elsewhere\r\n\r\n")
    store.append("bob", "INBOX", b"Subject: for bob\r\n\r\n")
    assert first.send("c NOOP") == [b"c OK NOOP completed"]


def test_move_reports_copyuid_then_expunges(pair):
    first, second = pair
    lines = first.send("c MOVE 2:3 Trash")
    assert lines[0].startswith(b"* OK [COPYUID ") and lines[0].endswith(b" 2:3 1:2] Moved")
    assert lines[1:] == [b"* 2 EXPUNGE", b"* 2 EXPUNGE", b"c OK MOVE completed"]
    assert second.send("d NOOP") == [b"* 2 EXPUNGE", b"* 2 EXPUNGE", b"d OK NOOP completed"]


def test_uid_store_reports_uid(pair):
    first, _ = pair
    assert first.send("c UID STORE 4 +FLAGS ($Later)") == [
        b"* 4 FETCH (UID 4 FLAGS ($Later \\Recent))", b"c OK UID STORE completed"
    ]


def test_body_fetch_sets_seen_and_says_so(pair):
    first, second = pair
    lines = first.send("c FETCH 2 BODY[TEXT]<0.5>")
    assert lines[0].startswith(b"* 2 FETCH (BODY[TEXT]<0> {5}")
    assert lines[1].endswith(b" FLAGS (\\Flagged \\Seen \\Recent))")
    assert any(isinstance(e, Note) and e.key == "imap.seen-set" for e in first.events)
    assert second.send("d NOOP")[0] == b"* 2 FETCH (FLAGS (\\Flagged \\Seen))"


def test_replies_carry_tag_and_key(pair):
    first, _ = pair
    first.send("zz9 CHECK")
    reply = [e for e in first.events if isinstance(e, Reply)][-1]
    assert (reply.code, reply.tag, reply.key, reply.command) == ("OK", "zz9", "check-ok", "CHECK")


def test_closing_unsubscribes(pair, store):
    first, _ = pair
    before = len(store._observers)
    first.session.receive_eof()
    assert len(store._observers) == before - 1


def test_autologout(pair):
    first, _ = pair
    first.session.receive_timeout()
    assert first.take() == [b"* BYE Autologout; idle for too long"]
    assert first.session.closed


def test_selected_mailbox_deleted_by_another_session(store):
    first, second = Driver(store, "one"), Driver(store, "two")
    for driver in (first, second):
        driver.send("a LOGIN alice wonderland")
    first.send("b SELECT Archive")
    count = len(store.mailbox("alice", "Archive").messages)
    assert second.send("c DELETE Archive/2025")[-1] == b"c OK DELETE completed"
    assert second.send("d DELETE Archive")[-1] == b"d OK DELETE completed"
    assert first.send("e STORE 1 +FLAGS (\\Seen)")[-1] == b"e OK STORE completed"  # already gone: ignored
    lines = first.send("f EXPUNGE")
    assert lines == [b"* 1 EXPUNGE"] * count + [b"f NO [NONEXISTENT] The mailbox changed meanwhile: no-such-mailbox"]
    assert first.send("g FETCH 1:* FLAGS") == [b"g OK FETCH completed"]
    assert first.send("h CLOSE") == [b"h OK CLOSE completed"]


def test_a_burst_of_changes_wakes_idle_once(pair):
    first, second = pair
    first.send("c IDLE")
    second.send("d STORE 1:* +FLAGS.SILENT ($Burst)")
    assert first.pushed == 1
    assert len(first.take()) == 7
    second.send("e STORE 1 -FLAGS.SILENT ($Burst)")
    assert first.pushed == 2


def test_an_internal_fault_answers_no_and_the_session_lives(pair, monkeypatch):
    first, _ = pair

    def broken(self, cmd):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(ImapSession, "_check", broken)
    assert first.send("c CHECK") == [b"c NO [SERVERBUG] CHECK failed inside the server; the session goes on"]
    assert first.send("d NOOP") == [b"d OK NOOP completed"]


def test_broken_mime_structure_gets_a_parse_warning(pair, store):
    first, _ = pair
    broken = b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
    store.append("alice", "INBOX", broken)
    first.send("c NOOP")
    lines = first.send("d FETCH 8 BODYSTRUCTURE")
    assert lines[-2:] == [
        b"* NO [PARSE] Message 8 has MIME structure defects (close-boundary-not-found); shown as read",
        b"d OK FETCH completed",
    ]
    assert first.send("e FETCH 1:7 BODYSTRUCTURE")[-1] == b"e OK FETCH completed"
    assert all(b"PARSE" not in line for line in first.send("f FETCH 1:8 FLAGS"))
