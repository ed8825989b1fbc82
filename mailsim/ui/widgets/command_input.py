"""The console's input line: telnet's, with history and completion of valid commands.

Up/Down walk the session's history; the inline suggestion completes the verb of a
command valid in the current state (read from the engine's transition table) up to its
first argument, or repeats a line from the history. Right arrow accepts it.

Pasting several lines posts them (`Pasted`) to be sent one by one, as if typed and
each followed by Enter; text after the last line break stays in the input, unsent,
as in a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input

from mailsim.protocol.base import CommandInfo
from mailsim.ui import machine
from mailsim.ui.widgets.fixed_box import FixedBoxScrolling


class CommandSuggester(Suggester):
    """Completes from the commands valid now, then from the history."""

    def __init__(self, commands: Callable[[], list[CommandInfo]], history: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._commands = commands
        self._history = history

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        words = value.split(" ")
        # The verb is the first word, or the second after an IMAP-style tag.
        verb_positions = (0,) if len(words) == 1 else (1,) if len(words) == 2 else ()
        known = {info.verb for info in self._commands()}
        for position in verb_positions:
            if position == 1 and words[0].upper() in known:
                break
            typed = words[position].upper()
            head = " ".join(words[:position])
            for info in self._commands():
                if typed and info.verb.startswith(typed):
                    completion = (head + " " if head else "") + machine.syntax_stub(info)
                    if len(completion) > len(value) and completion.upper().startswith(value.upper()):
                        return value + completion[len(value):]
        for line in reversed(self._history):
            if line.startswith(value) and line != value:
                return line
        return None


class CommandInput(FixedBoxScrolling, Input):
    """One row, always: typing repaints the line and never reflows the screen."""

    BINDINGS = [
        Binding("up", "history(-1)", show=False),
        Binding("down", "history(1)", show=False),
    ]

    class Pasted(Message):
        """Several lines were pasted: `lines` are complete lines to send in order."""

        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

    def __init__(self, history: list[str], commands: Callable[[], list[CommandInfo]], **kwargs) -> None:
        super().__init__(suggester=CommandSuggester(commands, history), **kwargs)
        self.history = history
        self._position: int | None = None
        self._draft = ""

    def remember(self, line: str) -> None:
        """Add a sent line to the history (not twice in a row) and reset the walk."""
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self._position = None
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position is None:
            if step > 0:
                return
            self._draft = self.value
            position = len(self.history) - 1
        else:
            position = self._position + step
        if position >= len(self.history):
            self._position = None
            self.value = self._draft
        else:
            self._position = max(0, position)
            self.value = self.history[self._position]
        self.cursor_position = len(self.value)

    def _on_paste(self, event: events.Paste) -> None:
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            return  # one line: Input's own handler (next in the MRO) inserts it
        event.prevent_default()  # Input's handler would insert the first line again
        event.stop()
        *complete, rest = text.split("\n")
        before, after = self.value[: self.cursor_position], self.value[self.cursor_position:]
        complete[0] = before + complete[0]
        self.value = rest + after
        self.cursor_position = len(rest)
        self.post_message(self.Pasted(complete))
