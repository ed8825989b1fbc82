"""The path a message took: its hops, from its Received: lines and the queue's record.

Reached with `p` from the mailbox view, the MIME inspector and the queue screen. Each
hop is a server that took the message (who handed it over, from which address, with
which protocol, its queue id and time, how long after the previous hop); under a hop
whose queue id the outgoing queue knows, the queue's attempts (when, to which MX, the
reply); at the end, the envelope sender the last server recorded.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailsim.mime.trace import Hop, message_path, return_path
from mailsim.store.queue import Attempt, QueueEntry
from mailsim.ui.strings import Strings

OUTCOME_STYLE = {"delivered": "green", "transient": "yellow", "permanent": "red"}


def _time(value: datetime | float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _after(seconds: float | None, t: Strings) -> str:
    if seconds is None:
        return ""
    return t("path.after", seconds=f"{seconds:.0f}")


def attempt_text(attempt: Attempt, number: int, t: Strings) -> Text:
    """`attempt 2 · 14:15:20 · mx.ejemplo.test · 450 4.2.0 Greylisted…` (coloured)."""
    host = attempt.host or t("path.no-host")
    reply = attempt.diagnostic or "—"
    text = Text(t("path.attempt", number=number, time=_time(attempt.time), host=host) + " · ")
    text.append(reply, OUTCOME_STYLE.get(attempt.outcome.value, ""))
    text.append(f"  ({t('queue.outcome.' + attempt.outcome.value)})", "dim")
    return text


def entries_for(hop: Hop, entries: list[QueueEntry]) -> list[QueueEntry]:
    """The queue entries a hop's `id` names (for this hop's recipient, when it says)."""
    found = [e for e in entries if e.message.queue_id == hop.queue_id]
    if hop.recipient:
        found = [e for e in found if e.recipient.lower() == hop.recipient.lower()] or found
    return found


def path_renderable(raw: bytes, entries: list[QueueEntry], t: Strings) -> Group:
    hops = message_path(raw)
    parts: list[object] = [Text(t("path.intro"), style="dim"), Text("")]
    if not hops:
        parts.append(Text(t("path.none")))
    else:
        table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
        for key in ("number", "from", "by", "with", "id", "time", "after"):
            wraps = key in ("from", "by")  # host names fold on a narrow screen; the rest stays whole
            table.add_column(t(f"path.col.{key}"), no_wrap=not wraps, overflow="fold" if wraps else "ellipsis")
        for hop in hops:
            origin = hop.from_host or t("path.local")
            if hop.from_detail:
                origin += f" ({hop.from_detail})"
            clock = hop.date.astimezone(timezone.utc).strftime("%H:%M:%S") if hop.date is not None else "—"
            table.add_row(str(hop.number), origin, Text(hop.by_host, "bold"), hop.with_protocol, hop.queue_id,
                          clock, _after(hop.delay, t))
        parts.append(table)
        dated = next((hop.date for hop in hops if hop.date is not None), None)
        if dated is not None:
            parts.append(Text(t("path.day", day=dated.astimezone(timezone.utc).strftime("%Y-%m-%d")), "dim"))
        for hop in hops:
            for entry in entries_for(hop, entries):
                status = t(f"queue.status.{entry.status.value}")
                parts.append(Text(""))
                parts.append(Text(t("path.queue", number=hop.number, server=hop.by_host, recipient=entry.recipient,
                                    status=status), "bold"))
                for number, attempt in enumerate(entry.attempts, start=1):
                    parts.append(Text("  ").append_text(attempt_text(attempt, number, t)))
    sender = return_path(raw)
    if sender is not None:
        parts.append(Text(""))
        parts.append(Text(t("path.return-path-bounce") if sender == "" else t("path.return-path", sender=sender)))
    return Group(*parts)


class PathScreen(ModalScreen[None]):
    CSS_PATH = "path.tcss"
    BINDINGS = [Binding("escape,q,p", "dismiss", show=False)]

    def __init__(self, raw: bytes, *, title: str = "", entries: list[QueueEntry] | None = None,
                 lang: str = "en") -> None:
        super().__init__()
        self.raw = raw
        self.message_title = title
        self.entries = list(entries or [])
        self.strings = Strings(lang)

    def compose(self) -> ComposeResult:
        t = self.strings
        with VerticalScroll(id="path-box") as box:
            box.border_title = t("path.title", title=self.message_title)
            box.border_subtitle = t("path.close")
            self.body = path_renderable(self.raw, self.entries, t)
            yield Static(self.body, id="path-body")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
