"""POP3 and IMAP sessions as a student sees them, compared with the accepted SVG snapshots.

Accept a change only after looking at it: `pytest tests/ui/test_snapshots_pop3_imap.py
--snapshot-update`, then each SVG as a picture.
"""

from __future__ import annotations

import pytest

from .helpers import type_lines
from .test_pop3_imap import app_with

WIDE = (120, 40)
SMALL = (80, 24)

# Lines typed to bring a POP3 session into each state (UPDATE: QUIT commits the DELE).
POP3_TO_STATE = {
    "authorization": ["USER alice"],
    "transaction": ["USER alice", "PASS wonderland", "STAT", "LIST", "DELE 2"],
    "update": ["USER alice", "PASS wonderland", "DELE 2", "QUIT"],
}

IMAP_TO_STATE = {
    "not-authenticated": ["a CAPABILITY"],
    "authenticated": ["a LOGIN alice wonderland", "b LIST \"\" %"],
    "selected": ["a LOGIN alice wonderland", "b SELECT INBOX", "c FETCH 5 BODYSTRUCTURE", "d FETCH 1 BODY.PEEK[]"],
    "idle": ["a LOGIN alice wonderland", "b SELECT INBOX", "c IDLE"],
    "logout": ["a LOGIN alice wonderland", "b SELECT INBOX", "c LOGOUT"],
}


def _typing(lines):
    async def run_before(pilot):
        await pilot.pause()
        await type_lines(pilot, lines)

    return run_before


@pytest.mark.parametrize("state", list(POP3_TO_STATE))
def test_pop3_session_in_each_state(snap_compare, state):
    assert snap_compare(app_with("pop3"), terminal_size=WIDE, run_before=_typing(POP3_TO_STATE[state]))


@pytest.mark.parametrize("state", list(IMAP_TO_STATE))
def test_imap_session_in_each_state(snap_compare, state):
    assert snap_compare(app_with("imap"), terminal_size=WIDE, run_before=_typing(IMAP_TO_STATE[state]))


def test_imap_small_terminal(snap_compare):
    assert snap_compare(app_with("imap"), terminal_size=SMALL, run_before=_typing(IMAP_TO_STATE["selected"][:3]))


def test_imap_light_theme(snap_compare):
    lines = ["a LOGIN alice wonderland", "b SELECT INBOX", "c APPEND INBOX {14}"]
    assert snap_compare(app_with("imap", dark=False), terminal_size=WIDE, run_before=_typing(lines))
