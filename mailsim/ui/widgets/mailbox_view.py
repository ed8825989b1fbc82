"""Accounts → mailboxes → messages, live from the store's change notifications.

What just changed (a delivery, a flag, a deletion mark, an expunge) is highlighted for a
few seconds, and the view follows a delivery to the mailbox it landed in. Enter on a
message posts `MailboxView.MessageChosen`: the app opens it (the MIME inspector's hook).

A POP3 DELE is not a store change: the message stays until QUIT. The app hands the
session's `DeletionMarked` events to `show_deletion_mark`, and the message is shown
struck through with a DELE label until QUIT removes it or RSET (or a dropped
connection) takes the mark back, when it is highlighted as restored for a moment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email import policy
from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Tree

from mailsim.protocol.seen import SeenMailboxes
from mailsim.store.changes import FlagsChanged, MessageAdded, MessagesExpunged, StoreChange
from mailsim.store.model import SystemFlag, StoredMessage
from mailsim.store.store import MailStore
from mailsim.ui.bindings import localized
from mailsim.ui.strings import Strings

HIGHLIGHT_SECONDS = 4.0
SUBJECT_WIDTH = 60


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"

_HEADER_PARSER = BytesHeaderParser(policy=policy.default)


def subject_of(message: StoredMessage) -> str:
    """The Subject header decoded (RFC 2047) and unfolded; cached on the message."""
    cached = message.cache.get("ui.subject")
    if isinstance(cached, str):
        return cached
    try:
        header = _HEADER_PARSER.parsebytes(message.raw).get("subject")
        subject = " ".join(str(header).split()) if header is not None else ""
    except Exception:  # a malformed header shows as raw text rather than nothing
        subject = ""
    message.cache["ui.subject"] = subject
    return subject


def flags_text(flags: set[str] | frozenset[str]) -> str:
    order = [f.value for f in SystemFlag]
    ordered = sorted(flags, key=lambda f: (order.index(f) if f in order else len(order), f))
    return " ".join(flag.lstrip("\\") for flag in ordered)


@dataclass(frozen=True)
class Mark:
    kind: str    # "added", "flags", "deleted", "restored"
    until: float


_SEEN = "\0seen"  # tree and row data of mailboxes seen in a dialog, not in the store
DELE_LABEL = "DELE"  # the POP3 command that marked the message, shown in its flags column


class MailboxView(Horizontal):
    COMPONENT_CLASSES = {
        "mailbox-view--added",
        "mailbox-view--flags",
        "mailbox-view--deleted",
        "mailbox-view--pending-delete",
        "mailbox-view--dele-label",
        "mailbox-view--restored",
    }

    BINDINGS = [Binding("p", "path", "relay.key-path")]

    class PathRequested(Message):
        """The student asked for the path of a message (`p` on its row)."""

        def __init__(self, account: str, mailbox: str, uid: int) -> None:
            super().__init__()
            self.account, self.mailbox, self.uid = account, mailbox, uid

    class MessageChosen(Message):
        """The student asked to open a message (Enter on its row)."""

        def __init__(self, account: str, mailbox: str, uid: int) -> None:
            super().__init__()
            self.account, self.mailbox, self.uid = account, mailbox, uid

    def __init__(self, store: MailStore, clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.strings = Strings()
        self.selected: tuple[str, str] | None = None
        self._marks: dict[tuple[str, str, int], Mark] = {}
        self._box_marks: dict[tuple[str, str], Mark] = {}
        self._pending_delete: set[tuple[str, str, int]] = set()  # POP3 DELE, QUIT not yet sent
        self._now = clock
        self._unsubscribe: Callable[[], None] | None = None
        # A session with a server mailsim cannot look into: its mailboxes as the dialog
        # showed them, instead of the store.
        self._seen: SeenMailboxes | None = None
        self._seen_key: tuple[int, int] | None = None
        self._seen_pick = ""
        self._pristine_bindings = self._bindings.copy()
        self.set_strings(self.strings)

    def compose(self) -> ComposeResult:
        tree: Tree[tuple[str, str]] = Tree("accounts", id="mailbox-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield DataTable(id="message-table", cursor_type="row", zebra_stripes=True)

    @property
    def tree(self) -> Tree[tuple[str, str]]:
        return self.query_one("#mailbox-tree", Tree)

    @property
    def table(self) -> DataTable:
        return self.query_one("#message-table", DataTable)

    def on_mount(self) -> None:
        self._unsubscribe = self.store.subscribe(self._on_store_change)
        first = next(iter(self.store.accounts.values()), None)
        if first is not None:
            self.selected = (first.name, "INBOX")
        self.rebuild()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def set_strings(self, strings: Strings) -> None:
        self.strings = strings
        self._bindings = localized(self._pristine_bindings, strings, "relay.")
        if self.is_mounted:
            self.rebuild()

    # -- store changes -------------------------------------------------------------------

    def _on_store_change(self, change: StoreChange) -> None:
        until = self._now() + HIGHLIGHT_SECONDS
        box = (change.account, change.mailbox)
        if isinstance(change, MessageAdded):
            self._marks[(*box, change.uid)] = Mark("added", until)
            self._box_marks[box] = Mark("added", until)
            self.selected = box  # follow the delivery
        elif isinstance(change, FlagsChanged):
            deleted = SystemFlag.DELETED.value in change.flags
            self._marks[(*box, change.uid)] = Mark("deleted" if deleted else "flags", until)
            self._box_marks[box] = Mark("flags", until)
        elif isinstance(change, MessagesExpunged):
            self._box_marks[box] = Mark("deleted", until)
            self._pending_delete -= {(*box, uid) for uid in change.uids}
        self.rebuild()
        self.set_timer(HIGHLIGHT_SECONDS + 0.1, self._expire)

    def show_deletion_mark(self, account: str, mailbox: str, uid: int, marked: bool) -> None:
        """A POP3 session marked a message for deletion (DELE) or took the mark back."""
        key = (account, mailbox, uid)
        if marked:
            self._pending_delete.add(key)
            self._marks.pop(key, None)
        else:
            if key not in self._pending_delete:
                return
            self._pending_delete.discard(key)
            self._marks[key] = Mark("restored", self._now() + HIGHLIGHT_SECONDS)
            self.set_timer(HIGHLIGHT_SECONDS + 0.1, self._expire)
        self.selected = (account, mailbox)  # follow the session, as for a delivery
        self.rebuild()

    def pending_delete(self, account: str, mailbox: str, uid: int) -> bool:
        """True while a POP3 DELE marks the message and no QUIT has removed it yet."""
        return (account, mailbox, uid) in self._pending_delete

    def _expire(self) -> None:
        now = self._now()
        self._marks = {k: m for k, m in self._marks.items() if m.until > now}
        self._box_marks = {k: m for k, m in self._box_marks.items() if m.until > now}
        self.rebuild()

    def mark_of(self, account: str, mailbox: str, uid: int) -> str:
        mark = self._marks.get((account, mailbox, uid))
        return mark.kind if mark is not None and mark.until > self._now() else ""

    # -- drawing ------------------------------------------------------------------------------

    def show_seen(self, seen: SeenMailboxes | None) -> None:
        """Show what a conversation with another server showed (None: the store again)."""
        key = None if seen is None else (id(seen), seen.version)
        if key == self._seen_key:
            return
        if seen is not self._seen:
            self._seen_pick = ""
        self._seen, self._seen_key = seen, key
        self.rebuild()

    def rebuild(self) -> None:
        if not self.is_mounted:
            return
        if self._seen is not None:
            self._rebuild_seen(self._seen)
            return
        self._rebuild_tree()
        self._rebuild_table()

    def _rebuild_seen(self, seen: SeenMailboxes) -> None:
        t = self.strings
        tree = self.tree
        tree.clear()
        node = tree.root.add(Text(f"{seen.user or '?'} · {seen.server}", style="bold"), data=("", ""), expand=True)
        shown = self._seen_pick or seen.selected
        for name, box in seen.mailboxes.items():
            label = Text(f"{name} ", overflow="ellipsis")
            if box.count is not None:
                label.append(str(box.count), "dim")
            leaf = node.add_leaf(label, data=(_SEEN, name))
            if name == shown:
                self.call_after_refresh(tree.move_cursor, leaf)
        table = self.table
        table.clear(columns=True)
        for column in ("number", "uid", "flags", "size", "subject"):
            table.add_column(t(f"connect.col.{column}") if column == "number" else t(f"mailbox.col.{column}"), key=column)
        box = seen.mailboxes.get(shown)
        self.border_title = t("connect.mailboxes-seen", server=seen.server, mailbox=shown or "—")
        if box is None:
            return
        marked = self.get_component_rich_style("mailbox-view--pending-delete", partial=True)
        for number, message in sorted(box.messages.items()):
            style = marked if message.marked else ""
            flags = Text(" ".join(f.lstrip("\\") for f in message.flags), style)
            if message.marked:
                label = Text(DELE_LABEL, self.get_component_rich_style("mailbox-view--dele-label", partial=True))
                flags = Text.assemble(label, " ", flags) if flags.plain else label
            table.add_row(
                Text(str(number), style),
                Text(message.uid, style),
                flags,
                Text(f"{message.size:,}" if message.size is not None else "", style, justify="right"),
                Text(_shorten(message.subject or "", SUBJECT_WIDTH), style),
                key=f"{_SEEN}{number}",
            )

    def _rebuild_tree(self) -> None:
        tree = self.tree
        tree.clear()
        for account in self.store.accounts.values():
            node = tree.root.add(Text(account.address, style="bold"), data=(account.name, ""), expand=True)
            for name, mailbox in account.mailboxes.items():
                label = Text(f"{name} ", overflow="ellipsis")
                label.append(str(len(mailbox.messages)), "dim")
                mark = self._box_marks.get((account.name, name))
                if mark is not None and mark.until > self._now():
                    label.stylize(self.get_component_rich_style(f"mailbox-view--{mark.kind}", partial=True))
                leaf = node.add_leaf(label, data=(account.name, name))
                if self.selected == (account.name, name):
                    self.call_after_refresh(tree.move_cursor, leaf)

    def _rebuild_table(self) -> None:
        t = self.strings
        table = self.table
        table.clear(columns=True)
        table.add_column(t("mailbox.col.uid"), key="uid")
        table.add_column(t("mailbox.col.flags"), key="flags")
        table.add_column(t("mailbox.col.size"), key="size")
        table.add_column(t("mailbox.col.subject"), key="subject")
        if self.selected is None:
            return
        account, name = self.selected
        try:
            mailbox = self.store.mailbox(account, name)
        except Exception:
            self.selected = None
            return
        self.border_title = t("mailbox.title-of", account=account, mailbox=name)
        cursor = None
        for row, message in enumerate(mailbox.messages):
            kind = self.mark_of(account, name, message.uid)
            pending = self.pending_delete(account, name, message.uid)
            if pending:
                kind = "pending-delete"
            style = self.get_component_rich_style(f"mailbox-view--{kind}", partial=True) if kind else ""
            if SystemFlag.DELETED.value in message.flags and not kind:
                style = self.get_component_rich_style("mailbox-view--deleted", partial=True)
            flags = Text(flags_text(message.flags), style)
            if pending:  # the label itself is not struck through: it says why the row is
                label = Text(DELE_LABEL, self.get_component_rich_style("mailbox-view--dele-label", partial=True))
                flags = Text.assemble(label, " ", flags) if flags.plain else label
            table.add_row(
                Text(str(message.uid), style),
                flags,
                Text(f"{message.size:,}", style, justify="right"),
                Text(_shorten(subject_of(message) or t("mailbox.no-subject"), SUBJECT_WIDTH), style),
                key=f"{account}\0{name}\0{message.uid}",
            )
            if kind:
                cursor = row
        if cursor is not None:
            table.move_cursor(row=cursor, animate=False)

    # -- student actions ----------------------------------------------------------------

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        data = event.node.data
        if data and data[0] == _SEEN:
            self._seen_pick = data[1]
            self.rebuild()
            return
        if data and data[1]:
            self.selected = data
            self._rebuild_table()

    def cursor_message(self) -> tuple[str, str, int] | None:
        """(account, mailbox, uid) of the row under the cursor, if any."""
        table = self.table
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        if not key:
            return None
        account, mailbox, uid = key.split("\0")
        return account, mailbox, int(uid)

    def action_path(self) -> None:
        chosen = self.cursor_message()
        if chosen is not None:
            self.post_message(self.PathRequested(*chosen))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self.table or event.row_key.value is None or self._seen is not None:
            return
        event.stop()
        account, mailbox, uid = event.row_key.value.split("\0")
        self.post_message(self.MessageChosen(account, mailbox, int(uid)))
