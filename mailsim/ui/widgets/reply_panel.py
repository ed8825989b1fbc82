"""The last reply explained in the student's language, the notes, and every reply so far.

The explanation comes from `mailsim.protocol.explain` (data files beside the engines);
the reply class is always shown, coloured the way the transcript colours it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import DataTable

from mailsim.events import Reply, ReplyClass
from mailsim.protocol.explain import Explainer
from mailsim.ui.model import SessionModel
from mailsim.ui.strings import Strings
from mailsim.ui.widgets.fixed_box import FixedBoxScrolling

CLASS_COMPONENT = {
    ReplyClass.SUCCESS: "reply-panel--success",
    ReplyClass.INTERMEDIATE: "reply-panel--intermediate",
    ReplyClass.TRANSIENT: "reply-panel--transient",
    ReplyClass.PERMANENT: "reply-panel--permanent",
    ReplyClass.BAD: "reply-panel--bad",
    ReplyClass.DATA: "reply-panel--data",
    ReplyClass.NEGATIVE: "reply-panel--negative",
    ReplyClass.CLOSING: "reply-panel--closing",
}


class ReplyExplanation(FixedBoxScrolling, ScrollView):
    """The explanation box: a fixed number of rows that scrolls when a reply says more.

    Lines are wrapped once per reply (or width), so showing the same reply again after a
    NOOP, or a frame of the screen, costs nothing."""

    COMPONENT_CLASSES = {*CLASS_COMPONENT.values(), "reply-panel--label", "reply-panel--note", "reply-panel--muted"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.content: RenderableType = Text("")
        self._shown: tuple[Any, ...] | None = None
        self._source: tuple[SessionModel | None, Strings, Explainer] | None = None
        self._lines: list[Strip] = []
        self._lines_width = 0
        self._base = Style()

    def show(self, model: SessionModel | None, t: Strings, explainer: Explainer) -> None:
        """Explain the last reply of `model`, unless that is what is shown already."""
        self._source = (model, t, explainer)
        key = self._key(model, t)
        if key == self._shown:
            return
        self._shown = key
        self.content = self.build(model, t, explainer)
        self._wrap()
        self.scroll_to(0, 0, animate=False)

    @staticmethod
    def _key(model: SessionModel | None, t: Strings) -> tuple[Any, ...]:
        if model is None or not model.replies:
            return (t.lang,)
        reply = model.replies[-1]
        notes = tuple((note.protocol, note.key, note.params) for note in model.notes[-3:])
        return (t.lang, reply.protocol, reply.key, reply.code, reply.reply_class, reply.command, reply.text,
                reply.enhanced, notes)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._source is not None and self.is_mounted:
            self._shown = None
            self.show(*self._source)

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._lines_width:
            self._wrap()

    def _wrap(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or not self.is_mounted:
            return
        console = self.app.console
        base = self._base = self.rich_style
        lines = console.render_lines(Padding(self.content, (0, 1)), console.options.update_width(width),
                                     style=base, pad=True)
        self._lines = [Strip(line, width) for line in lines]
        self._lines_width = width
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip.blank(width, self._base)
        return self._lines[index].crop_extend(0, width, self._base)

    def _c(self, name: str) -> Style:
        return self.get_component_rich_style(f"reply-panel--{name}", partial=True)

    def build(self, model: SessionModel | None, t: Strings, explainer: Explainer) -> RenderableType:
        if model is None or not model.replies:
            return Text(t("reply.none"), self._c("muted"))
        reply = model.replies[-1]
        explained = explainer.reply(reply.protocol, reply.key, reply.code, reply.reply_class)
        badge_style = self._c(CLASS_COMPONENT[reply.reply_class].split("--")[1])
        head = Text(overflow="fold")
        head.append(f" {reply.code} ", badge_style + self._reverse())
        if reply.enhanced:
            head.append(f" {reply.enhanced}", badge_style)
        head.append("  " + t(f"class.{reply.reply_class.value}"), badge_style)
        head.append("  " + t("reply.answers", command=reply.command or t("reply.greeting")), self._c("muted"))
        rows: list[RenderableType] = [head, Text(reply.text.split("\n")[0], overflow="fold")]
        rows.append(self._labelled(t("reply.meaning"), explained.meaning or explained.reply_class or t("reply.no-explanation")))
        if explained.next_step:
            rows.append(self._labelled(t("reply.next"), explained.next_step))
        for note in model.notes[-3:]:
            text = explainer.note(note.protocol, note.key, note.params) or note.key
            rows.append(self._labelled(t("reply.note"), text, self._c("note")))
        return Group(*rows)

    def _reverse(self) -> Style:
        return Style(reverse=True, bold=True)

    def _labelled(self, label: str, value: str, style: Any = None) -> Text:
        text = Text(overflow="fold")
        text.append(label + " ", self._c("label"))
        text.append(value, style or "")
        return text


# The table shows the most recent replies (numbered as in the session); the
# transcript keeps every one. A 50,000-reply session must not stall the screen.
TABLE_ROWS = 500


class ReplyTable(FixedBoxScrolling, DataTable):
    """The replies so far: a row more per reply scrolls the table, not the screen's layout."""


class ReplyPanel(Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model: SessionModel | None = None
        self._rows = 0
        self._lang = ""

    def compose(self) -> ComposeResult:
        yield ReplyExplanation(id="reply-explained")
        yield ReplyTable(id="reply-table", cursor_type="row", zebra_stripes=True)

    @property
    def explanation(self) -> ReplyExplanation:
        return self.query_one("#reply-explained", ReplyExplanation)

    @property
    def table(self) -> DataTable:
        return self.query_one("#reply-table", DataTable)

    def show(self, model: SessionModel | None, t: Strings, explainer: Explainer) -> None:
        self.border_title = t("reply.title")
        self.explanation.show(model, t, explainer)
        table = self.table
        if model is not self._model or t.lang != self._lang or self._rows > len(model.replies if model else []):
            self._model, self._lang, self._rows = model, t.lang, 0
            table.clear(columns=True)
            table.add_columns(t("reply.col.number"), t("reply.col.command"), t("reply.col.code"), t("reply.col.class"),
                              t("reply.col.text"))
        if model is None:
            return
        if len(model.replies) - self._rows > TABLE_ROWS or table.row_count >= 2 * TABLE_ROWS:
            table.clear()
            self._rows = max(0, len(model.replies) - TABLE_ROWS)
        for index in range(self._rows, len(model.replies)):
            table.add_row(*self._cells(index + 1, model.replies[index], t), key=str(index))
        if len(model.replies) > self._rows:
            self._rows = len(model.replies)
            table.move_cursor(row=table.row_count - 1, animate=False)

    def _cells(self, number: int, reply: Reply, t: Strings) -> tuple[Any, ...]:
        style = self.explanation._c(CLASS_COMPONENT[reply.reply_class].split("--")[1])
        first = reply.text.split("\n")[0]
        # IMAP: the tag too, so a completion reads next to the command it completes.
        command = f"{reply.tag} {reply.command}" if reply.tag and reply.command else reply.command
        return (str(number), command or "—", Text(reply.code, style), Text(t(f"class.{reply.reply_class.value}"), style),
                first)
