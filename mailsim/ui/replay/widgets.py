"""The replay screen's panels. They only render what `Replay` computed for a step."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import DataTable, Static

from mailsim.transcript.replay import MailboxKey, MessageRow, Replay, StepResult
from mailsim.transcript.wirelog import printable
from mailsim.ui.replay.texts import Texts

DIFF_MARK = "≠"


class Timeline(DataTable):
    """Row 0 is the starting world, then one row per step: number, session, what the
    client did; differences marked. A row's index is the position it shows."""

    def fill(self, replay: Replay, texts: Texts) -> None:
        self.clear(columns=True)
        self.add_column("#", key="number")
        self.add_column("", key="mark")
        self.add_column(texts("session"), key="session")
        self.add_column(texts("client"), key="label")
        self.add_row(Text("0", justify="right"), "", "", Text(texts("start"), style="italic"))
        self.add_rows(
            (
                Text(str(step.number), justify="right"),
                Text(DIFF_MARK, style="bold red") if step.differs else "",
                step.session_id,
                Text(step.label()[:70], style="red" if step.differs else ""),
            )
            for step in replay.steps
        )


def _lines(data: bytes) -> list[str]:
    return [printable(piece) for piece in data.split(b"\n") if piece]


class StepPanel(Static):
    """The step's client lines and today's answer; both answers side by side where they
    differ from the recording."""

    def show(self, replay: Replay, position: int, texts: Texts) -> None:
        if position == 0:
            self.update(Text(texts("start"), style="italic"))
            return
        step = replay.steps[position - 1]
        several = len(replay.session_protocols) > 1
        body = Text()
        body.append(texts("position", number=step.number, total=len(replay.steps)) + f" · {step.session_id}\n",
                    style="bold")
        for line in _lines(step.client):
            body.append("C: " + line + "\n", style="bold cyan")
        for session_id, data in step.actual:
            who = f"[{session_id}] " if several and session_id != step.session_id else ""
            for line in _lines(data):
                body.append(f"{who}S: {line}\n")
        parts: list[object] = [body]
        for difference in step.differences:
            table = Table(title=f"{texts('differs')} {difference.session_id}", expand=True, title_style="bold red")
            table.add_column(texts("recorded"))
            table.add_column(texts("today"))
            for index in range(max(len(difference.expected), len(difference.actual))):
                left = printable(difference.expected[index]) if index < len(difference.expected) else ""
                right = printable(difference.actual[index]) if index < len(difference.actual) else ""
                style = "" if left == right else "red"
                table.add_row(Text(left, style=style), Text(right, style=style))
            parts.append(table)
        self.update(Group(*parts))


class StatePanel(Static):
    """The sessions shown (the most recently active), with their state and last reply."""

    def show(self, replay: Replay, position: int, texts: Texts, sessions: list[str]) -> None:
        text = Text()
        for session_id in sessions:
            state = replay.state_at(session_id, position)
            protocol = replay.session_protocols[session_id].value.upper()
            text.append(f"{session_id} ", style="bold")
            text.append(f"{protocol} ")
            text.append(state, style="reverse")
            reply = replay.last_reply(session_id, position)
            if reply is not None:
                text.append("  ")
                text.append(f"{reply.code} {reply.text[:50]}", style=_reply_style(reply.reply_class.value))
            text.append("\n")
        self.update(text if text.plain else Text(texts("nothing"), style="italic"))


def _reply_style(reply_class: str) -> str:
    return {"success": "green", "intermediate": "yellow", "transient": "magenta", "permanent": "red",
            "bad": "bold red", "data": "blue", "negative": "red", "closing": "dim"}.get(reply_class, "")


class ListingTable(DataTable):
    """The chosen mailbox as it was at this step: UID, flags, size, subject."""

    def show(self, rows: dict[int, MessageRow] | None, texts: Texts) -> None:
        self.clear(columns=True)
        for key in ("uid", "flags", "size", "subject"):
            self.add_column(texts(key), key=key)
        for uid in sorted(rows or {}):
            row = rows[uid]  # type: ignore[index]
            flags = " ".join(f.lstrip("\\") for f in row.flags)
            subject = row.subject + (f" {texts('deleted')}" if row.marked_deleted else "")
            style = "strike dim" if row.marked_deleted else ""
            self.add_row(Text(str(uid), justify="right"), flags, Text(str(row.size), justify="right"),
                         Text(subject[:60], style=style))


def changed_mailbox(replay: Replay, position: int) -> MailboxKey | None:
    """The mailbox the step at `position` changed, if any."""
    if position == 0:
        return None
    for key, _uid, _old, _new in replay.mailboxes.deltas[position - 1]:
        return key
    return None


def step_text(step: StepResult) -> str:
    """Everything searchable in a step, lower-cased."""
    parts = [step.session_id, step.client.decode("utf-8", "replace")]
    parts += [data.decode("utf-8", "replace") for _, data in step.actual]
    parts += [data.decode("utf-8", "replace") for _, data in step.expected]
    return "\n".join(parts).lower()


class SessionTail(Static):
    """One session's own pane: its last lines up to this step, the step's lines bright.
    It shows as many lines as fit, and refills when its height changes."""

    _shown: tuple[Replay, str, int] | None = None

    def show(self, replay: Replay, session_id: str, position: int) -> None:
        self._shown = (replay, session_id, position)
        self.border_title = f"{session_id} · {replay.session_protocols[session_id].value.upper()}"
        self._fill()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        if self._shown is None:
            return
        replay, session_id, position = self._shown
        text = Text(no_wrap=True, overflow="ellipsis")  # one row per line: the newest stay in view
        for kind, data, current in replay.session_lines(session_id, position, self.content_size.height or 12):
            style = ("bold cyan" if kind == "C" else "bold") if current else ("cyan dim" if kind == "C" else "dim")
            text.append(f"{kind}: {printable(data)}\n", style=style)
        text.rstrip()
        self.update(text)


def recent_sessions(replay: Replay, position: int, count: int, horizon: int = 2000) -> list[str]:
    """The sessions that acted most recently by `position` (the current one first)."""
    found: list[str] = []
    for step in reversed(replay.steps[max(0, position - horizon):position]):
        for session_id in (step.session_id, *(s for s, _ in step.actual)):
            if session_id not in found:
                found.append(session_id)
        if len(found) >= count:
            break
    return found[:count]
