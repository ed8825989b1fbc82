"""F1: every key of the app, with what it does, and how a session works."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailsim.ui.strings import Strings


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,f1,q", "dismiss", show=False)]

    def __init__(self, strings: Strings, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.strings = strings
        self.keys = keys

    def compose(self) -> ComposeResult:
        t = self.strings
        with VerticalScroll(id="help-box") as box:
            box.border_title = t("help.title")
            box.border_subtitle = t("help.close")
            yield Static(Text(t("help.intro")), id="help-intro")
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column()
            for key, description in self.keys:
                table.add_row(key, description)
            yield Static(table, id="help-keys")
            yield Static(Text(t("help.console")), id="help-console")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
