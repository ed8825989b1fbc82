"""The main screen as a student sees it, compared with the accepted SVG snapshots.

Accept a change only after looking at the report: `pytest tests/ui --snapshot-update`.
"""

from __future__ import annotations

import pytest

from .helpers import WHOLE_SESSION, test_app, type_lines

WIDE = (120, 40)
SMALL = (80, 24)

# Lines typed to bring an SMTP session into each state.
TO_STATE = {
    "connected": [],
    "greeted": WHOLE_SESSION[:1],
    "mail": WHOLE_SESSION[:2],
    "rcpt": WHOLE_SESSION[:3],
    "data": WHOLE_SESSION[:5],
    "delivered": WHOLE_SESSION,
}


def _typing(lines):
    async def run_before(pilot):
        await pilot.pause()
        await type_lines(pilot, lines)

    return run_before


@pytest.mark.parametrize("state", list(TO_STATE))
def test_smtp_session_in_each_state(snap_compare, state):
    assert snap_compare(test_app(), terminal_size=WIDE, run_before=_typing(TO_STATE[state]))


@pytest.mark.parametrize("state", ["connected", "rcpt", "data"])
def test_small_terminal(snap_compare, state):
    assert snap_compare(test_app(), terminal_size=SMALL, run_before=_typing(TO_STATE[state]))


def test_error_reply(snap_compare):
    lines = ["EHLO client.example", "RCPT TO:<bob@mailsim.test>"]
    assert snap_compare(test_app(), terminal_size=WIDE, run_before=_typing(lines))


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
def test_spanish(snap_compare, size):
    assert snap_compare(test_app(lang="es"), terminal_size=size, run_before=_typing(TO_STATE["rcpt"]))


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
def test_light_theme(snap_compare, size):
    assert snap_compare(test_app(dark=False), terminal_size=size, run_before=_typing(TO_STATE["mail"]))


def test_byte_view(snap_compare):
    async def run_before(pilot):
        await type_lines(pilot, WHOLE_SESSION[:3])
        await pilot.press("f8")
        await pilot.pause()

    assert snap_compare(test_app(), terminal_size=WIDE, run_before=run_before)


def test_help_screen(snap_compare):
    assert snap_compare(test_app(), terminal_size=WIDE, press=["f1"])
