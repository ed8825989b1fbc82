"""Ctrl+O during a message body: write the whole message in an editor, send it at once.

Each line goes out as telnet would send it, with CRLF; a line starting with "." gets a
second dot (RFC 5321 §4.5.2 transparency, what every mail client does), and a lone "."
ends the message.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from mailsim.ui.strings import Strings


def body_lines(text: str) -> list[str]:
    """The lines to send for `text`: dot-stuffed, then the lone dot that ends DATA."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [("." + line) if line.startswith(".") else line for line in lines] + ["."]


class ComposeScreen(ModalScreen[str | None]):
    CSS_PATH = "compose.tcss"
    BINDINGS = [
        Binding("ctrl+s", "send", show=False, priority=True),
        Binding("escape", "cancel", show=False),
    ]

    def __init__(self, strings: Strings, template: str) -> None:
        super().__init__()
        self.strings = strings
        self.template = template

    def compose(self) -> ComposeResult:
        t = self.strings
        with Vertical(id="compose-box") as box:
            box.border_title = t("compose.title")
            box.border_subtitle = t("compose.keys")
            yield Static(t("compose.intro"), id="compose-intro")
            editor = TextArea(self.template, id="compose-text", show_line_numbers=True, soft_wrap=False)
            editor.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
            yield editor

    @property
    def editor(self) -> TextArea:
        return self.query_one("#compose-text", TextArea)

    def on_mount(self) -> None:
        self.editor.focus()
        self.editor.move_cursor(self.editor.document.end)

    def action_send(self) -> None:
        self.dismiss(self.editor.text)

    def action_cancel(self) -> None:
        self.dismiss(None)
