"""What the replay views read at each step: session states and mailbox listings, the
same whether reached step by step, backwards, or by a jump."""

from __future__ import annotations

import random

from mailsim.events import Protocol
from mailsim.resources import assets_dir
from mailsim.transcript.replay import Replay
from mailsim.transcript.rfcstyle import parse_rfc_style

POP3 = assets_dir() / "transcripts" / "pop3-three-states.txt"
IMAP = assets_dir() / "transcripts" / "imap-select-fetch-store-expunge.txt"


def step_of(replay: Replay, client: bytes) -> int:
    """The number (1-based) of the step that sent `client`."""
    return next(s.number for s in replay.steps if s.client == client)


def test_pop3_states_and_deletion_marks_at_each_step() -> None:
    replay = Replay.load(POP3)
    session = "pop3-1"
    assert replay.state_at(session, 0) == ""
    assert replay.state_at(session, 1) == "authorization"
    assert replay.state_at(session, step_of(replay, b"PASS wonderland\r\n")) == "transaction"
    quit_step = step_of(replay, b"QUIT\r\n")
    assert replay.state_at(session, quit_step - 1) == "transaction"
    assert replay.state_at(session, quit_step) in ("update", "closed")

    inbox = ("alice", "INBOX")
    dele = step_of(replay, b"DELE 1\r\n")
    assert not replay.mailboxes_at(dele - 1)[inbox][1].marked_deleted
    assert replay.mailboxes_at(dele)[inbox][1].marked_deleted
    assert not replay.mailboxes_at(step_of(replay, b"RSET\r\n"))[inbox][1].marked_deleted
    assert replay.mailboxes_at(quit_step - 1)[inbox][7].marked_deleted
    assert 7 not in replay.mailboxes_at(quit_step)[inbox]          # QUIT commits (UPDATE)
    assert replay.mailboxes_at(quit_step - 1)[inbox][7].marked_deleted  # and back again
    assert replay.last_reply(session, quit_step).code == "+OK"


def test_imap_flags_and_expunge_forward_and_back() -> None:
    replay = Replay.load(IMAP)
    inbox = ("alice", "INBOX")
    store = step_of(replay, b"a4 STORE 2 +FLAGS (\\Deleted)\r\n")
    expunge = step_of(replay, b"a5 EXPUNGE\r\n")
    before = replay.mailboxes_at(store - 1)[inbox][2]
    assert "\\Deleted" not in before.flags and before.subject
    assert "\\Deleted" in replay.mailboxes_at(store)[inbox][2].flags
    assert 2 not in replay.mailboxes_at(expunge)[inbox]
    assert "\\Deleted" in replay.mailboxes_at(expunge - 1)[inbox][2].flags
    assert replay.mailboxes_at(0)[inbox][2] == before
    assert replay.sessions_at(expunge) == {"imap-1": "selected"}
    assert replay.last_reply("imap-1", expunge).tag == "a5"


def long_script() -> str:
    """Hundreds of deliveries and a flag storm: enough deltas for several checkpoints."""
    lines = ["@session imap imap", "C: a1 LOGIN alice wonderland", "C: a2 SELECT INBOX",
             "@session smtp smtp", "C: EHLO x"]
    for number in range(700):
        lines += ["C: MAIL FROM:<bob@mailsim.test>", "C: RCPT TO:<alice@mailsim.test>", "C: DATA",
                  f"C: Subject: note {number}", "C:", "C: text", "C: ."]
        if number % 100 == 99:
            lines += ["@session imap imap", f"C: s{number} STORE 1:{number // 2} +FLAGS (\\Seen)",
                      f"C: d{number} STORE 3:20 +FLAGS (\\Deleted)", f"C: e{number} EXPUNGE", "@session smtp smtp"]
    return "\n".join(lines) + "\n"


def test_jumps_agree_with_walking_step_by_step() -> None:
    replay = Replay(parse_rfc_style(long_script(), "long.txt"))
    assert len(replay.mailboxes._checkpoints) > 2
    walked = []
    for position in range(len(replay.steps) + 1):
        listing = replay.mailboxes_at(position)
        walked.append({key: dict(rows) for key, rows in listing.items()})
    rng = random.Random(7)
    for _ in range(300):
        position = rng.randrange(len(walked))
        assert replay.mailboxes_at(position) == walked[position]
    final = walked[-1][("alice", "INBOX")]
    assert any(row.subject == "note 699" for row in final.values())
    assert replay.session_protocols == {"imap": Protocol.IMAP, "smtp": Protocol.SMTP}
