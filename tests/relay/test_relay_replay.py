"""A relay session is recorded like any session, and replays with no difference —
answered again by the same domain's MX, greylisting and all."""

from __future__ import annotations

import base64
from pathlib import Path

from mailsim.clock import SimulatedClock
from mailsim.events import Protocol, RelayHop
from mailsim.protocol.registry import ENGINES
from mailsim.protocol.relay import QueueRunner
from mailsim.protocol.smtp import SmtpSession
from mailsim.store.dns import Greylisting
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus
from mailsim.transcript.recorder import read_transcript, start_recording
from mailsim.transcript.replay import Replay


def test_relay_sessions_record_and_replay_with_no_difference(tmp_path: Path) -> None:
    store = build_store(clock=SimulatedClock())  # the app's clock: real time, fast-forwardable
    store.domains["ejemplo.test"].greylisting = Greylisting(delay=30)
    bus = Bus()
    path = tmp_path / "relay.jsonl"
    recording = start_recording(store, bus, path, source="test")
    submission = SmtpSession(store, session_id="console-smtp-1", peer="console")
    submission.start()
    token = base64.b64encode(b"\0alice\0wonderland").decode()
    for line in ["EHLO pc-alice.example", f"AUTH PLAIN {token}", "MAIL FROM:<alice@mailsim.test>",
                 "RCPT TO:<carmen@ejemplo.test>", "RCPT TO:<nadie@ejemplo.test>", "DATA",
                 "Subject: Camino\r\n\r\nHola, Carmen.\r\n.", "QUIT"]:
        submission.receive_data(line.encode() + b"\r\n")
        submission.data_to_send()
        bus.publish_all(submission.events())
    runner = QueueRunner(store, bus.publish)
    runner.run_due()          # carmen: 450 greylisted; nadie: 550, bounced
    store.clock.advance(60)
    runner.run_due()          # carmen: delivered
    # Alice reads the bounce: the replay must have written it again, byte for byte.
    imap = ENGINES[Protocol.IMAP](store, session_id="console-imap-2", peer="console")
    imap.start()
    for line in ["a LOGIN alice wonderland", "b SELECT INBOX", "c FETCH * (BODY.PEEK[])", "d LOGOUT"]:
        imap.receive_data(line.encode() + b"\r\n")
    fetched = imap.data_to_send()
    assert b"multipart/report" in fetched and b"Final-Recipient: rfc822; nadie@ejemplo.test" in fetched
    bus.publish_all(imap.events())
    recording.stop()

    _header, events = read_transcript(path)
    hops = [e for e in events if isinstance(e, RelayHop)]
    assert [(h.recipient, h.attempt) for h in hops] == [
        ("carmen@ejemplo.test", 1), ("nadie@ejemplo.test", 1), ("carmen@ejemplo.test", 2)]
    replay = Replay.load(path)
    assert replay.differences == []
    relay_steps = [s for s in replay.steps if s.session_id.startswith("relay-smtp-")]
    assert relay_steps and any(r.code == "450" for s in relay_steps for r in s.replies)
    assert any(r.code == "550" and r.enhanced == "5.1.1" for s in relay_steps for r in s.replies)
    # the replayed world ends as the recorded one did: the message in carmen's INBOX
    final = replay.mailboxes_at(len(replay))
    assert any(row.subject == "Camino" for row in final[("carmen", "INBOX")].values())
    assert any(row.subject == "Undelivered Mail Returned to Sender" for row in final[("alice", "INBOX")].values())
    queue = replay.store.queue.entries
    assert [(e.recipient, e.status.value, len(e.attempts)) for e in queue] == [
        ("carmen@ejemplo.test", "delivered", 2), ("nadie@ejemplo.test", "bounced", 1)]
