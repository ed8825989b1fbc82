"""Ctrl+O during a message body: write the whole message in an editor, send it at once.

Each line goes out as telnet would send it, with CRLF; a line starting with "." gets a
second dot (RFC 5321 §4.5.2 transparency, what every mail client does), and a lone "."
ends the message. In IMAP the same editor writes a literal; `preview` then shows, as
the student types, the command line it will announce (`a APPEND INBOX {342}`).
"""

from __future__ import annotations

from collections.abc import Callable

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

    def __init__(self, strings: Strings, template: str, *, title: str = "", intro: str = "",
                 preview: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.strings = strings
        self.template = template
        self.box_title = title or strings("compose.title")
        self.intro = intro or strings("compose.intro")
        self.preview = preview

    def compose(self) -> ComposeResult:
        t = self.strings
        with Vertical(id="compose-box") as box:
            box.border_title = self.box_title
            box.border_subtitle = t("compose.keys")
            yield Static(self.intro, id="compose-intro")
            if self.preview is not None:
                yield Static(self.preview(self.template), id="compose-preview", markup=False)
            editor = TextArea(self.template, id="compose-text", show_line_numbers=True, soft_wrap=False)
            editor.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
            yield editor

    @property
    def editor(self) -> TextArea:
        return self.query_one("#compose-text", TextArea)

    def on_mount(self) -> None:
        self.editor.focus()
        self.editor.move_cursor(self.editor.document.end)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.preview is not None:
            self.query_one("#compose-preview", Static).update(self.preview(event.text_area.text))

    def action_send(self) -> None:
        self.dismiss(self.editor.text)

    def action_cancel(self) -> None:
        self.dismiss(None)
