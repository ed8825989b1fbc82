"""The choices of a lesson question, answerable from the keyboard.

↑/↓ and Enter pick an option, and so does its number (`1`…`9`, the number each option
is shown with). Any other character typed here was meant for the console (the question
appeared while the student was typing): it is handed on, never dropped.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList


class ChoiceList(OptionList):
    BINDINGS = [Binding(str(n), f"choose({n - 1})", show=False) for n in range(1, 10)]

    class Forwarded(Message):
        """Text typed into the choices that belongs to the console."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def action_choose(self, index: int) -> None:
        if 0 <= index < self.option_count:
            self.highlighted = index
            self.action_select()

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and not event.character.isdigit() and event.character != " ":
            event.stop()
            event.prevent_default()
            self.post_message(self.Forwarded(event.character))
