"""The MIME inspector: the tree of parts, the selected part's details, and
the raw source with that part's octets highlighted.

Opened on top of the main app (mailbox view, session transcripts) or as an
app of its own (``mailsim inspect FILE.eml``, see ``app.py``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Static, Tree

from mailsim.mime import MimeModel, MimeNode, build_model
from mailsim.ui.inspector.details import PartDetails
from mailsim.ui.inspector.part_tree import PartTree, legend
from mailsim.ui.inspector.raw_view import RawSourceView
from mailsim.ui.inspector.save import save_part
from mailsim.ui.inspector.texts import Texts
from mailsim.ui.widgets.footer import Footer


TREE_FRAME = 4     # the tree's border and scrollbar around its widest row
TREE_SHARE = 0.6   # of the screen's width, at most

class InspectorScreen(Screen[None]):
    CSS_PATH = ["widgets.tcss", "inspector.tcss"]
    # Descriptions are keys into explanations.toml; `_localize` fills them in.
    BINDINGS = [
        Binding("e", "toggle_encoded", "ui.key-toggle"),
        Binding("r", "jump_raw", "ui.key-raw"),
        Binding("t", "focus_tree", "ui.key-tree", show=False),
        Binding("d", "focus_details", "ui.key-details", show=False),
        Binding("m", "maximize", "ui.key-maximize"),
        Binding("p", "path", "ui.key-path"),
        Binding("s", "save", "ui.key-save"),
        Binding("f9", "toggle_language", "ui.key-language"),
        Binding("escape,q", "close", "ui.key-close"),
    ]

    def __init__(self, model: MimeModel, *, title: str = "", lang: str = "en") -> None:
        super().__init__()
        self.model = model
        self.message_title = title
        self.texts = Texts(lang)
        self.save_folder: Path | None = None  # where "s" saves a part (None: the working directory)
        self._pristine = self._bindings.copy()
        self._localize()

    @classmethod
    def from_bytes(cls, raw: bytes, *, title: str = "", lang: str = "en") -> InspectorScreen:
        return cls(build_model(raw), title=title, lang=lang)

    def _localize(self) -> None:
        localized = BindingsMap()
        for _key, binding in self._pristine:
            description = self.texts(binding.description) if binding.description.startswith("ui.") else binding.description
            localized._add_binding(dataclasses.replace(binding, description=description, tooltip=description))
        self._bindings = localized

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="inspector-body"):
            with Vertical(id="inspector-left"):
                yield PartTree(self.texts, id="part-tree")
                yield Static(legend(self.texts, self.model), id="tree-legend", classes="tree-legend")
            with Vertical(id="inspector-right"):
                yield PartDetails(self.texts, id="part-details")
                yield RawSourceView(id="raw-view")
        yield Footer()

    @property
    def tree(self) -> PartTree:
        return self.query_one("#part-tree", PartTree)

    @property
    def details(self) -> PartDetails:
        return self.query_one("#part-details", PartDetails)

    @property
    def raw_view(self) -> RawSourceView:
        return self.query_one("#raw-view", RawSourceView)

    def on_mount(self) -> None:
        self.raw_view.set_model(self.model)
        self.tree.show_model(self.model)
        self._fit_tree()
        self._titles()
        self.show_node(self.model.root)
        self.tree.focus()

    def on_resize(self) -> None:
        self._fit_tree()

    def _fit_tree(self) -> None:
        """The tree as wide as its longest row (file names whole) while the details
        keep most of the screen: `TREE_SHARE` of it at most."""
        widest = self.tree.widest_label()
        total = self.size.width or self.app.size.width
        width = max(28, min(widest + TREE_FRAME, int(total * TREE_SHARE)))
        self.query_one("#inspector-left").styles.width = width

    def _titles(self) -> None:
        t = self.texts
        self.title = t("ui.title", title=self.message_title or self.model.root.header("subject") or "")
        self.sub_title = ""
        self.tree.border_title = t("ui.tree")
        self.query_one("#tree-legend", Static).update(legend(t, self.model))
        self.details.border_title = t("ui.details")
        self.raw_view.border_title = t(
            "ui.raw", size=f"{len(self.model.raw):,}", lines=f"{self.raw_view.line_count:,}"
        )

    # -- selection ---------------------------------------------------------------------

    @property
    def selected(self) -> MimeNode:
        return self.details.node or self.model.root

    def show_node(self, node: MimeNode) -> None:
        """Show ``node`` in the details and highlight its octets in the raw view."""
        self.details.show(node)
        self.raw_view.select_range(node.header_start, node.end, node.label)
        self.raw_view.border_subtitle = self.texts(
            "ui.raw-range", section=node.label or node.header_section, start=f"{node.header_start:,}",
            end=f"{node.end:,}",
        )

    def select_section(self, section: str) -> bool:
        """Move the tree cursor to the part a section names (``"2"``, ``"3.1"``)."""
        node = self.model.find(section)
        row = self.tree.row_of(node) if node is not None else None
        if row is None:
            return False
        self.tree.move_cursor(row)
        self.show_node(node)
        return True

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[MimeNode]) -> None:
        event.stop()
        if event.node.data is not None and event.node.data is not self.details.node:
            self.show_node(event.node.data)

    def on_tree_node_selected(self, event: Tree.NodeSelected[MimeNode]) -> None:
        event.stop()

    # -- actions -----------------------------------------------------------------------

    def action_toggle_encoded(self) -> None:
        self.details.cycle_mode()

    def action_jump_raw(self) -> None:
        self.raw_view.focus()
        self.raw_view.scroll_to_selection()

    def action_focus_tree(self) -> None:
        self.tree.focus()

    def action_focus_details(self) -> None:
        self.details.focus()

    def action_toggle_language(self) -> None:
        lang = "es" if self.texts.lang == "en" else "en"
        self.texts = Texts(lang)
        self._localize()
        self.tree.relabel(self.texts)
        self.details.set_texts(self.texts)
        self._titles()
        self.show_node(self.selected)
        self.refresh_bindings()
        set_language = getattr(self.app, "set_language", None)
        if callable(set_language) and getattr(self.app, "lang", lang) != lang:
            try:
                set_language(lang)
            except Exception:  # the host app's own screens may not be up
                pass

    def action_path(self) -> None:
        """The path the message took: its Received: lines (and the queue, in the app)."""
        from mailsim.ui.screens.path import PathScreen

        queue = getattr(getattr(self.app, "store", None), "queue", None)
        self.app.push_screen(PathScreen(self.model.raw, title=self.message_title or "",
                                        entries=queue.entries if queue is not None else [], lang=self.texts.lang))

    def action_save(self) -> None:
        node = self.selected
        folder = self.save_folder or Path.cwd()
        try:
            path = save_part(node, folder)
        except OSError as exc:
            self.notify(self.texts("ui.save-failed", error=exc.strerror or str(exc)), severity="error")
            return
        key = "ui.saved" if node.payload is not None else "ui.saved-entity"
        self.notify(self.texts(key, part=node.label or node.header_section, path=str(path),
                               size=f"{path.stat().st_size:,}"), timeout=8)

    def action_close(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)
        else:
            self.app.exit()
