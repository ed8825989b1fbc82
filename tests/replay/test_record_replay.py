"""Sessions recorded from real clients over real sockets replay with no difference; a
changed server reply is reported at its step."""

from __future__ import annotations

import imaplib
import json
import poplib
import smtplib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailsim.events import Protocol
from mailsim.protocol.registry import ENGINES
from mailsim.store.world import build_store
from mailsim.transcript.recorder import read_transcript, start_recording
from mailsim.transcript.replay import Replay
from running_servers import RunningServers, start_servers

pytestmark = pytest.mark.network


def needs(protocol: Protocol) -> None:
    if protocol not in ENGINES:
        pytest.skip(f"no {protocol.value.upper()} engine in mailsim.protocol.registry.ENGINES yet")


class Recorded:
    def __init__(self, servers: RunningServers, path: Path) -> None:
        self.servers = servers
        self.path = path
        self.recording = start_recording(
            servers.store, servers.bus, path, source="test", config=servers.servers.options.session_config
        )

    def port(self, protocol: Protocol) -> int:
        return self.servers.ports[protocol]

    def finish(self) -> Replay:
        """Wait until every session has closed, stop recording, replay."""
        deadline = time.monotonic() + 5
        while self.servers.servers.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        self.servers.call(lambda: None)  # let pending pushes reach the Bus
        self.recording.stop()
        return Replay.load(self.path)


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[Recorded]:
    # The store a real server has: system clock, random ids (recording makes them reproducible).
    for servers in start_servers(build_store()):
        yield Recorded(servers, tmp_path / "session.jsonl")


def assert_clean(replay: Replay) -> None:
    from mailsim.transcript.replay import format_difference

    assert replay.warnings == []
    assert not replay.differences, "\n".join(format_difference(d) for d in replay.differences)


def test_smtp_sessions_replay_with_no_difference(recorded: Recorded) -> None:
    with smtplib.SMTP("127.0.0.1", recorded.port(Protocol.SMTP)) as client:
        client.ehlo("client.example")
        client.login("bob", "builder")  # CRAM-MD5: a challenge from the id generator and the clock
        refused = client.sendmail(
            "bob@mailsim.test",
            ["alice@mailsim.test", "nobody@mailsim.test", "friend@remote.example"],
            b"Subject: replay\r\n\r\nline one\r\n.starts with a dot\r\n",
        )
        assert "nobody@mailsim.test" in refused
        client.noop()
        client.rset()
    with smtplib.SMTP("127.0.0.1", recorded.port(Protocol.SMTP)) as client:
        client.helo("second.example")
        client.docmd("VRFY", "alice")
        client.docmd("BOGUS")
    replay = recorded.finish()
    assert_clean(replay)
    assert len(replay.session_protocols) == 2
    assert any(step.differs is False and step.replies for step in replay.steps)


def test_pop3_sessions_replay_with_no_difference(recorded: Recorded) -> None:
    needs(Protocol.POP3)
    client = poplib.POP3("127.0.0.1", recorded.port(Protocol.POP3))
    client.apop("alice", "wonderland")  # the banner's timestamp comes from the ids and the clock
    client.stat()
    client.list()
    client.uidl()
    client.top(2, 3)
    client.retr(1)
    client.dele(1)
    client.rset()
    client.dele(2)
    client.quit()
    client = poplib.POP3("127.0.0.1", recorded.port(Protocol.POP3))
    client.user("bob")
    with pytest.raises(poplib.error_proto):
        client.pass_("wrong")
    client.close()
    replay = recorded.finish()
    assert_clean(replay)


def test_imap_sessions_replay_with_no_difference(recorded: Recorded) -> None:
    needs(Protocol.IMAP)
    client = imaplib.IMAP4("127.0.0.1", recorded.port(Protocol.IMAP))
    client.login("alice", "wonderland")
    client.create("Labs/2026")  # new mailboxes take UIDVALIDITY from the store's seed
    client.append("Labs/2026", "(\\Seen)", None, b"Subject: appended\r\n\r\nliteral body\r\n")
    client.select("INBOX")
    client.fetch("1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
    client.fetch("3", "(BODYSTRUCTURE BODY.PEEK[1])")
    client.store("2", "+FLAGS", "(\\Deleted \\Flagged)")
    client.expunge()
    client.search(None, "UNSEEN")
    client.select("Labs/2026")
    client.fetch("1", "(INTERNALDATE FLAGS)")
    client.logout()
    replay = recorded.finish()
    assert_clean(replay)


def test_idle_woken_by_a_delivery_replays_with_no_difference(recorded: Recorded) -> None:
    needs(Protocol.IMAP)
    from imapclient import IMAPClient

    with IMAPClient("127.0.0.1", port=recorded.port(Protocol.IMAP), ssl=False, timeout=10) as imap:
        imap.login("alice", "wonderland")
        imap.select_folder("INBOX")
        imap.idle()
        woke = threading.Event()

        def deliver() -> None:
            with smtplib.SMTP("127.0.0.1", recorded.port(Protocol.SMTP)) as smtp:
                smtp.sendmail("bob@mailsim.test", ["alice@mailsim.test"], b"Subject: wake up\r\n\r\nnow\r\n")
            woke.set()

        thread = threading.Thread(target=deliver)
        thread.start()
        responses = imap.idle_check(timeout=10)
        thread.join()
        imap.idle_done()
        assert any(r[1] == b"EXISTS" for r in responses)
        imap.fetch([8], ["FLAGS", "INTERNALDATE", "BODY.PEEK[HEADER]"])
    replay = recorded.finish()
    assert_clean(replay)
    # The wake-up belongs to the SMTP step that delivered.
    woken = [s for s in replay.steps if any(sid != s.session_id and b"EXISTS" in d for sid, d in s.actual)]
    assert woken and woken[0].protocol is Protocol.SMTP


def _edit_first_server_line(path: Path, needle: str, replacement: str) -> int:
    """Change the first recorded server line containing `needle`; returns its line number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        record = json.loads(line)
        if record.get("kind") == "server" and needle in record["data"].get("text", ""):
            record["data"]["text"] = record["data"]["text"].replace(needle, replacement)
            lines[index] = json.dumps(record) + "\n"
            path.write_text("".join(lines), encoding="utf-8")
            return index + 1
    raise AssertionError(f"no server line with {needle!r}")


def test_a_changed_server_reply_is_reported_at_its_step(recorded: Recorded) -> None:
    with smtplib.SMTP("127.0.0.1", recorded.port(Protocol.SMTP)) as client:
        client.ehlo("client.example")
        client.sendmail("bob@mailsim.test", ["alice@mailsim.test", "nobody@mailsim.test"], b"Subject: x\r\n\r\ny\r\n")
    clean = recorded.finish()
    assert_clean(clean)
    _edit_first_server_line(recorded.path, "no such user here", "user unknown")
    _, events = read_transcript(recorded.path)
    replay = Replay.load(recorded.path)
    assert len(replay.differences) == 1
    difference = replay.differences[0]
    step = replay.steps[difference.step - 1]
    assert step.client.upper() == b"RCPT TO:<NOBODY@MAILSIM.TEST>\r\n"
    assert difference.line == step.line
    assert json.loads(recorded.path.read_text().splitlines()[step.line - 1])["data"]["text"].upper().startswith("RCPT TO:<NOBODY")
    want, got = difference.first_mismatch()
    assert want is not None and b"user unknown" in want
    assert got is not None and b"no such user here" in got
    # Every other step still agrees.
    assert sum(s.differs for s in replay.steps) == 1


def test_recording_in_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    from mailsim.transcript.bus import Bus
    from mailsim.transcript.recorder import recordings_dir

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda name: str(tmp_path / name))
    store = build_store()
    recording = start_recording(store, Bus())
    recording.stop()
    assert recording.path.parent == recordings_dir() == tmp_path / "mailsim" / "recordings"
    header, events = read_transcript(recording.path)
    assert events == [] and header["source"] == "app"
    assert header["start"]["ids"]["kind"] == "seeded"
    assert {a["name"] for a in header["start"]["store"]["accounts"]} == {"alice", "bob", "carmen"}
    # Default-world messages are referenced, not copied.
    assert len(recording.path.read_text()) < 20_000
    second = start_recording(store, Bus())
    second.stop()
    assert second.path != recording.path
