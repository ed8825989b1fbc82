"""The tree of a message's parts: marker, IMAP section, type, size, file name."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from mailsim.mime import MimeModel, MimeNode
from mailsim.ui.inspector.describe import MARKERS, node_kind, tree_label
from mailsim.ui.inspector.texts import Texts


class PartTree(Tree[MimeNode]):
    """One row per entity of the MIME model, all expanded; the data of each
    row is its MimeNode."""

    COMPONENT_CLASSES = {
        "part-tree--section",
        "part-tree--type",
        "part-tree--detail",
        "part-tree--marker",
        "part-tree--defect",
    }

    def __init__(self, texts: Texts, **kwargs: Any) -> None:
        super().__init__("message", **kwargs)
        self.texts = texts
        self.show_root = True
        self.guide_depth = 2
        self._by_node: dict[int, TreeNode[MimeNode]] = {}

    def show_model(self, model: MimeModel) -> None:
        """Rebuild the rows for ``model`` and put the cursor on its root."""
        self.clear()
        self._by_node.clear()
        self._styles = {name: self.get_component_rich_style(name, partial=True) for name in self.COMPONENT_CLASSES}
        self.root.data = model.root
        self.root.set_label(self._label(model.root))
        self._by_node[id(model.root)] = self.root
        # Iterative: a message nested 100 deep must not exhaust the stack.
        stack: list[tuple[TreeNode[MimeNode], MimeNode]] = [(self.root, model.root)]
        while stack:
            parent, node = stack.pop()
            for child in node.children:
                if child.children:
                    row = parent.add(self._label(child), data=child, expand=True)
                    stack.append((row, child))
                else:
                    row = parent.add_leaf(self._label(child), data=child)
                self._by_node[id(child)] = row
        self.root.expand_all()
        self.move_cursor(self.root)

    def widest_label(self) -> int:
        """Cells of the widest row, its guides and indentation included."""
        return max((row.label.cell_len + 2 + 2 * (row.data.depth if row.data is not None else 0)
                    for row in self._by_node.values()), default=0)

    def row_of(self, node: MimeNode) -> TreeNode[MimeNode] | None:
        return self._by_node.get(id(node))

    def relabel(self, texts: Texts) -> None:
        self.texts = texts
        for row in self._by_node.values():
            if row.data is not None:
                row.set_label(self._label(row.data))

    def _label(self, node: MimeNode) -> Text:
        marker, section, content_type, detail = tree_label(node, self.texts)
        styles = getattr(self, "_styles", None) or {
            name: self.get_component_rich_style(name, partial=True) for name in self.COMPONENT_CLASSES
        }
        style = styles.__getitem__
        label = Text(no_wrap=True, overflow="ellipsis", end="")
        label.append(marker + " ", style("part-tree--marker"))
        if section:
            label.append(section + " ", style("part-tree--section"))
        if node.filename:  # an attachment is known by its name: first, before its long type
            label.append(node.filename, style("part-tree--type") + Style(bold=True))
            label.append(f"  {detail.split(' · ')[0]} · {content_type}", style("part-tree--detail"))
        else:
            label.append(content_type, style("part-tree--type"))
            label.append("  " + detail, style("part-tree--detail"))
        if node.defects:
            label.append(" ⚠", style("part-tree--defect"))
        return label


def legend(texts: Texts, model: MimeModel | None = None) -> str:
    """``✉ message  ▤ multipart container  ...``: the markers ``model`` uses
    (all of them without a model)."""
    used = {node_kind(node) for node in model.walk()} if model is not None else set(MARKERS)
    return "  ".join(f"{marker} {texts('kind.' + kind)}" for kind, marker in MARKERS.items() if kind in used)


__all__ = ["PartTree", "legend", "node_kind"]
