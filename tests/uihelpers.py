"""What every Pilot test needs: a line entered in one go, and a clock for the
"just changed" highlights that moves only when the test says so.

Typing a line key by key costs two waits for the app to go idle per key (Textual's
`Pilot.press`), a second or more per line on a busy machine. A student's line reaches
the app the same way whether it was typed or pasted — as the input's value, submitted
by Enter — so tests put the line in the input and press Enter once. The few tests
where typing itself is the behaviour (history, suggestions while typing, the editor)
still press the keys.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input


async def focused_input(pilot: Pilot, into: Input | None = None) -> Input:
    """The input that has the keyboard (`into`, given the keyboard first), once it has
    it: a pane takes the focus after its first refresh, and a line entered before then
    would go nowhere."""
    if into is not None:
        into.focus()
    for _ in range(20):
        field = pilot.app.focused
        if isinstance(field, Input) and (into is None or field is into):
            return field
        await pilot.pause()
    raise AssertionError(f"no input has the keyboard: the focus is on {pilot.app.focused!r}")


async def put_line(pilot: Pilot, line: str, into: Input | None = None) -> Input:
    """Put `line` in the input that has the keyboard, the cursor at its end, as if typed."""
    field = await focused_input(pilot, into)
    field.value = line
    field.cursor_position = len(line)
    return field


async def enter_line(pilot: Pilot, line: str, into: Input | None = None) -> None:
    """Put `line` in the input that has the keyboard (or `into`) and press Enter."""
    await put_line(pilot, line, into)
    await pilot.press("enter")
    await pilot.pause()


async def enter_lines(pilot: Pilot, lines: list[str]) -> None:
    for line in lines:
        await enter_line(pilot, line)


class HeldClock:
    """A monotonic clock for `make_app(highlight_clock=...)`: it stands still, so a
    highlight is there however slowly the machine ran, until `advance` moves it on."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
