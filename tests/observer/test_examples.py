"""Over the example recordings: replayed by the engines, watched by the observers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsim.events import Connected
from mailsim.protocol.imap.observer import ImapObserver
from mailsim.protocol.pop3_observer import Pop3Observer
from mailsim.protocol.smtp_observer import SmtpObserver
from mailsim.resources import assets_dir
from mailsim.transcript.replay import Replay
from mailsim.transcript.script import load_script
from tests.observer.equivalence import assert_same_events

OBSERVERS = {"smtp": SmtpObserver, "pop3": Pop3Observer, "imap": ImapObserver}
EXAMPLES = sorted((assets_dir() / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_session_of_the_examples(path: Path) -> None:
    replay = Replay(load_script(path))
    assert replay.differences == []
    events = [event for step in replay.steps for event in step.events]
    sessions = [e for e in events if isinstance(e, Connected)]
    assert sessions
    for opened in sessions:
        assert_same_events(OBSERVERS[opened.protocol.value], events, opened.session_id)
