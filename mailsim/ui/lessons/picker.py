"""The lesson picker: every lesson of the library with its protocols, level, minutes and
the student's progress; Enter opens one, `r` forgets its progress.

Dismissed with the chosen lesson's path (None: closed without choosing).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown

from mailsim.ui.lessons.catalog import LessonEntry, LessonSettings, catalog
from mailsim.ui.strings import Strings


WIDE = 100   # from this width the level has a column of its own
_KEYS = ["number", "title", "protocols", "level", "minutes", "progress"]


def _width(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))


def _clip(cell: object, width: int) -> object:
    text = cell if isinstance(cell, Text) else Text(str(cell))
    if text.cell_len <= width:
        return cell
    clipped = text.copy()
    clipped.truncate(width, overflow="ellipsis")
    return clipped


class LessonPickerScreen(Screen[Path | None]):
    CSS_PATH = "lessons.tcss"
    BINDINGS = [
        Binding("enter", "open", "lessons.bind.open", priority=True),
        Binding("r", "reset", "lessons.bind.reset"),
        Binding("escape", "close", "lessons.bind.close"),
        Binding("f9", "toggle_language", "lessons.bind.language"),
    ]

    def __init__(self, strings: Strings, settings: LessonSettings) -> None:
        super().__init__()
        self.strings = strings
        self.settings = settings
        self.entries: list[LessonEntry] = []
        self._pristine = self._bindings.copy()
        self._localize()

    def _localize(self) -> None:
        t = self.strings
        localized = BindingsMap()
        for _key, binding in self._pristine:
            description = t(binding.description)
            localized._add_binding(dataclasses.replace(binding, description=description, tooltip=description))
        self._bindings = localized

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        yield DataTable(id="picker-table", cursor_type="row", zebra_stripes=True)
        yield Markdown(id="picker-summary", open_links=False)
        yield Footer(compact=True)

    @property
    def table(self) -> DataTable:
        return self.query_one("#picker-table", DataTable)

    @property
    def lang(self) -> str:
        return self.strings.lang

    async def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def reload(self) -> None:
        """Read the library and the saved progress again; keep the cursor where it was."""
        t = self.strings
        self.title = t("app.title")
        self.sub_title = t("lessons.picker.title")
        row = self.table.cursor_row if self.entries else 0
        self.entries = catalog(self.settings.files(), self.settings.progress)
        table = self.table
        table.clear(columns=True)
        rows = [self._cells(number, entry) for number, entry in enumerate(self.entries, 1)]
        headers = ["#", t("lessons.picker.lesson"), t("lessons.picker.protocols"), t("lessons.picker.level"),
                   t("lessons.picker.minutes"), t("lessons.picker.progress")]
        widths = [max([len(headers[i])] + [_width(row[i]) for row in rows])
                  for i in range(len(headers))]
        wide = (self.size.width or self.app.size.width) >= WIDE
        shown = [0, 1, 2, 3, 4, 5] if wide else [0, 1, 2, 4, 5]
        # The title takes what the other columns leave (2 cells of padding each, and a scrollbar).
        room = (self.size.width or self.app.size.width) - sum(widths[i] + 2 for i in shown if i != 1) - 4
        widths[1] = max(12, min(widths[1], room))
        for i in shown:
            table.add_column(headers[i], key=_KEYS[i], width=widths[i])
        for entry, cells_all in zip(self.entries, rows):
            cells = [cells_all[i] for i in shown]
            cells[1] = _clip(cells_all[1], widths[1])
            table.add_row(*cells, key=str(entry.path))
        if self.entries:
            table.move_cursor(row=min(row, len(self.entries) - 1))
        self._describe()

    def _cells(self, number: int, entry: LessonEntry) -> list[object]:
        t = self.strings
        lesson = entry.lesson
        if lesson is None:
            return [str(number), Text(entry.path.name, style="red"), "", "", "", Text("✘", style="red")]
        if entry.finished:
            progress = Text("✔ " + t("lessons.picker.finished"), style="green")
        elif entry.done:
            progress = Text(f"{entry.done}/{entry.total}", style="yellow")
        else:
            progress = Text("—", style="dim")
        return [
            str(number),
            lesson.title.get(self.lang),
            " ".join(p.value.upper() for p in lesson.protocols),
            t(f"lessons.level.{lesson.level.value}"),
            Text(str(lesson.minutes), justify="right"),
            progress,
        ]

    def _describe(self) -> None:
        entry = self.selected
        t = self.strings
        summary = self.query_one("#picker-summary", Markdown)
        if entry is None:
            summary.update(t("lessons.picker.empty"))
            return
        if entry.lesson is None:
            summary.update(f"**{entry.path.name}**\n\n{t('lessons.picker.broken', error=entry.error)}")
            return
        lesson = entry.lesson
        facts = " · ".join([
            " ".join(p.value.upper() for p in lesson.protocols),
            t(f"lessons.level.{lesson.level.value}"),
            f"{lesson.minutes} min",
            f"`{lesson.id}`",
        ])
        parts = [f"**{lesson.title.get(self.lang)}**  \n{facts}", lesson.summary.get(self.lang).strip()]
        if lesson.prerequisites:
            parts.append(t("lessons.picker.prerequisites", ids=", ".join(lesson.prerequisites)))
        summary.update("\n\n".join(parts))

    @property
    def selected(self) -> LessonEntry | None:
        if not self.entries:
            return None
        row = self.table.cursor_row
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def on_resize(self) -> None:
        if self.entries:
            self.reload()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    # -- actions ----------------------------------------------------------------------------

    def action_open(self) -> None:
        entry = self.selected
        if entry is None:
            return
        if entry.lesson is None:
            self.notify(self.strings("lessons.picker.broken", error=entry.error), severity="error")
            return
        self.dismiss(entry.path)

    def action_reset(self) -> None:
        entry = self.selected
        if entry is None or entry.lesson is None:
            return
        self.settings.progress.reset(entry.lesson.id)
        self.notify(self.strings("lessons.notify.reset", title=entry.lesson.title.get(self.lang)))
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_language(self) -> None:
        app = self.app
        set_language = getattr(app, "set_language", None)
        lang = "es" if self.lang == "en" else "en"
        if callable(set_language):
            try:
                set_language(lang)
            except LookupError:  # no main screen underneath yet
                app.lang = lang  # type: ignore[attr-defined]
        self.strings = Strings(lang)
        self._localize()
        self.reload()
        self.refresh_bindings()
