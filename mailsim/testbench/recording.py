"""`mailsim check recording FILE`: judge a client's conversations after the fact.

The app records every session, and `mailsim serve --record` every connection; a
recording is replayed against today's engines (the replay's own machinery) and the
replayed events and store are judged exactly as a live `check client` run is.
"""

from __future__ import annotations

import time
from pathlib import Path

from mailsim.events import Protocol
from mailsim.testbench.assignment import Assignment
from mailsim.testbench.clientrules import Context, judge_conversation
from mailsim.testbench.conversation import conversations_from_events, passwords
from mailsim.testbench.requirements import MailboxSnapshot, judge_messages, judge_requirements
from mailsim.testbench.verdict import Report
from mailsim.transcript.replay import Replay


def judge_recording(path: str | Path, *, protocol: Protocol | None = None, assignment: Assignment | None = None) -> Report:
    """Raises TranscriptError (from the replay) when the file cannot be read."""
    started = time.monotonic()
    replay = Replay.load(path)
    before = MailboxSnapshot.of(replay.starting_store())
    protocol = assignment.protocol if assignment is not None else protocol
    events = [event for step in replay.steps for event in step.events]
    secrets = passwords(replay.store)
    conversations = [c for c in conversations_from_events(events, secrets) if protocol is None or c.protocol is protocol]
    verdicts = []
    for number, conversation in enumerate(conversations, start=1):
        conversation.number = number
        verdicts += judge_conversation(conversation, Context()) + judge_messages(conversation, replay.store)
    if assignment is not None:
        verdicts += judge_requirements(assignment, conversations, replay.store, before)
    differences = len({d.step for d in replay.differences})
    notes = [str(path)] + ([f"{differences} steps answer differently today"] if differences else [])
    return Report(
        kind="client",
        subject=(protocol.value.upper() if protocol else "") or "/".join(sorted({c.protocol.value.upper() for c in conversations})),
        verdicts=tuple(verdicts),
        title=assignment.title if assignment else None,
        level=assignment.id if assignment else "recording",
        duration=time.monotonic() - started,
        notes=tuple(notes),
        transcripts=tuple(c.transcript() for c in conversations),
    )
