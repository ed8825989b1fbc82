"""F12: the world between the servers — its domains, the simulated DNS, and the
outgoing queue with every attempt, live.

`f` fast-forwards the world's clock to the next retry and runs it (no waiting minutes
for a greylisted message); `p` (or Enter) shows the path of the selected message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from mailsim.store.changes import MessageQueued, QueueEntryChanged, StoreChange
from mailsim.store.queue import QueueEntry
from mailsim.store.store import MailStore
from mailsim.ui.bindings import localized
from mailsim.ui.screens.path import PathScreen, attempt_text
from mailsim.ui.strings import Strings

STATUS_STYLE = {"queued": "cyan", "deferred": "yellow", "delivered": "green", "bounced": "red"}


def world_table(store: MailStore, t: Strings) -> Table:
    """Each domain with its server, and the DNS records as a zone file writes them."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for domain in store.domains.values():
        route = store.dns.route(domain.name)
        hosts = ", ".join(f"{host} [{address or '?'}]" for host, address in route.hosts) or t("queue.no-route")
        notes = t("queue.home") if domain.name == store.domain else t("queue.other")
        if domain.greylisting.active:
            notes += " · " + t("queue.greylisting", delay=int(domain.greylisting.delay))
        table.add_row(domain.name, t("queue.domain-line", hostname=domain.hostname, mx=hosts, notes=notes))
    table.add_row("", "")
    table.add_row(Text(t("queue.dns"), "bold"), Text("\n".join(r.zone_line() for r in store.dns.records), "cyan"))
    return table


class QueueScreen(ModalScreen[None]):
    CSS_PATH = "queue.tcss"
    BINDINGS = [
        Binding("f", "fast_forward", "queue.key-fast-forward"),
        Binding("p,enter", "path", "queue.key-path"),
        Binding("escape,q", "dismiss", "queue.key-close"),
    ]

    def __init__(self, store: MailStore, *, lang: str = "en",
                 fast_forward: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.store = store
        self.strings = Strings(lang)
        self.fast_forward = fast_forward
        self._unsubscribe: Callable[[], None] | None = None
        self._localize()

    def _localize(self) -> None:
        self._bindings = localized(self._bindings, self.strings, "queue.")

    def compose(self) -> ComposeResult:
        t = self.strings
        with Vertical(id="queue-box") as box:
            box.border_title = t("queue.title")
            with VerticalScroll(id="queue-top"):  # on a small screen the queue keeps its room
                yield Static(t("queue.intro"), id="queue-intro")
                yield Static(world_table(self.store, t), id="queue-world")
            yield Static(t("queue.queue-title"), id="queue-heading")
            yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="queue-detail")
        yield Footer()

    @property
    def table(self) -> DataTable:
        return self.query_one("#queue-table", DataTable)

    def on_mount(self) -> None:
        self._unsubscribe = self.store.subscribe(self._on_change)
        self.refresh_queue()
        self.table.focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _on_change(self, change: StoreChange) -> None:
        if isinstance(change, (MessageQueued, QueueEntryChanged)):
            self.call_later(self.refresh_queue)

    def refresh_queue(self) -> None:
        t = self.strings
        table = self.table
        row = table.cursor_row
        table.clear(columns=True)
        for key in ("id", "sender", "recipient", "status", "attempts", "next", "last"):
            table.add_column(t(f"queue.col.{key}"), key=key)
        now = self.store.clock.now()
        for index, entry in enumerate(self.store.queue.entries):
            status = Text(t(f"queue.status.{entry.status.value}"), STATUS_STYLE[entry.status.value])
            waiting = "" if entry.status.final else t("queue.in", seconds=f"{max(entry.next_attempt - now, 0):.0f}")
            last = entry.last.diagnostic if entry.last else ""
            table.add_row(entry.entry_id, entry.message.sender or "<>", entry.recipient, status,
                          str(len(entry.attempts)), waiting, last[:60], key=str(index))
        if not self.store.queue.entries:
            self.query_one("#queue-detail", Static).update(t("queue.empty"))
            return
        table.move_cursor(row=min(max(row, 0), len(self.store.queue.entries) - 1), animate=False)
        self._show_detail()

    def selected_entry(self) -> QueueEntry | None:
        entries = self.store.queue.entries
        row = self.table.cursor_row
        return entries[row] if 0 <= row < len(entries) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        entry = self.selected_entry()
        detail = self.query_one("#queue-detail", Static)
        if entry is None:
            detail.update("")
            return
        t = self.strings
        lines = Text(t("queue.detail", id=entry.entry_id, recipient=entry.recipient, queued=_time(entry.message.queued_at)))
        for number, attempt in enumerate(entry.attempts, start=1):
            lines.append("\n")
            lines.append_text(attempt_text(attempt, number, t))
        if entry.bounce_uid:
            lines.append("\n" + t("queue.bounced-to", sender=entry.message.sender, uid=entry.bounce_uid), "red")
        detail.update(lines)

    def action_fast_forward(self) -> None:
        t = self.strings
        if self.fast_forward is None or self.store.queue.next_due() is None:
            self.notify(t("queue.nothing-waiting"))
            return
        skipped = self.fast_forward()
        self.notify(t("queue.fast-forwarded", seconds=f"{skipped:.0f}"))
        self.refresh_queue()

    def action_path(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            return
        raw, title = entry.message.raw, f"{entry.entry_id} → {entry.recipient}"
        filed = entry.last.filed if entry.last is not None else None
        if filed is not None:  # delivered: the copy in the recipient's mailbox, every hop on it
            try:
                stored = self.store.mailbox(filed[0], filed[1]).by_uid(filed[2])
            except Exception:
                stored = None
            if stored is not None:
                raw, title = stored.raw, f"{filed[0]}/{filed[1]} UID {filed[2]}"
        self.app.push_screen(PathScreen(raw, title=title, entries=self.store.queue.entries, lang=self.strings.lang))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


def _time(value: datetime | Any) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else ""
