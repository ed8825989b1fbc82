"""The details of the selected part: headers as sent and decoded, what each
MIME header means, the parser's defects, and the content both as sent and
decoded, so base64 and quoted-printable can be seen at work."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from mailsim.mime import MimeNode
from mailsim.ui.inspector.describe import (
    all_defects,
    defect_text,
    explain_node,
    hex_dump,
    html_to_text,
    node_kind,
)
from mailsim.ui.inspector.texts import Texts

#: What a preview shows at most: enough to see the encoding at work.
PREVIEW_OCTETS = 4096
PREVIEW_LINES = 60
VIEW_MODES = ("both", "decoded", "encoded")


class PartDetails(VerticalScroll, can_focus=True):
    """Everything about one MimeNode, rebuilt when another is shown."""

    mode: reactive[str] = reactive("both")

    def __init__(self, texts: Texts, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.texts = texts
        self.node: MimeNode | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="part-summary")
        yield Static(id="part-defects")
        yield Static(id="part-headers")
        yield Static(id="part-explained")
        yield Static(id="part-view", classes="part-view")
        with Horizontal(id="part-content"):
            yield Static(id="content-encoded", classes="content-column")
            yield Static(id="content-decoded", classes="content-column")

    def show(self, node: MimeNode) -> None:
        self.node = node
        self._fill_all()
        self.scroll_home(animate=False)

    def set_texts(self, texts: Texts) -> None:
        self.texts = texts
        self._fill_all()

    def cycle_mode(self) -> str:
        self.mode = VIEW_MODES[(VIEW_MODES.index(self.mode) + 1) % len(VIEW_MODES)]
        return self.mode

    def watch_mode(self) -> None:
        self._fill_all()

    # -- sections --------------------------------------------------------------------

    def _static(self, selector: str) -> Static:
        return self.query_one(selector, Static)

    def _fill_all(self) -> None:
        if not self.is_mounted or self.node is None:
            return
        node, t = self.node, self.texts
        self._static("#part-summary").update(self._summary(node))
        self._static("#part-headers").update(self._headers(node))
        explained = explain_node(node, t)
        explained_box = self._static("#part-explained")
        explained_box.display = bool(explained)
        if explained:
            body = Text()
            body.append(t("ui.explained") + "\n", "bold")
            for number, item in enumerate(explained):
                if number:
                    body.append("\n")
                body.append("• " + item.text)
            explained_box.update(body)
        defects = all_defects(node)
        defects_box = self._static("#part-defects")
        defects_box.display = bool(defects)
        if defects:
            body = Text()
            body.append("⚠ " + t("ui.defects") + "\n", "bold")
            body.append("\n".join("• " + defect_text(d, t) for d in defects))
            defects_box.update(body)
        self._fill_content(node)

    def _summary(self, node: MimeNode) -> Text:
        t = self.texts
        kind = t(f"kind.{node_kind(node)}")
        text = Text()
        text.append(node.content_type, "bold")
        if node.filename:
            text.append(f"  {node.filename}", "italic")
        text.append("\n" + t("ui.summary", kind=kind, section=node.label or "—", size=f"{node.size:,}",
                             lines=f"{node.lines:,}"))
        text.append("\n" + t("ui.range", start=f"{node.header_start:,}", end=f"{node.end:,}",
                             header=f"{node.body_start - node.header_start:,}", body=f"{node.size:,}"))
        if node.part_number is not None or node.text_section:
            section = node.part_number or node.text_section or ""
            text.append("\n" + t("topic.section", section=section, header=node.header_section), "dim")
        return text

    def _headers(self, node: MimeNode) -> RenderableType:
        t = self.texts
        if not node.headers:
            return Text(t("ui.no-headers"), "italic")
        table = Table(show_header=False, box=None, expand=True, padding=(0, 1, 0, 0))
        table.add_column(no_wrap=True, style="bold", max_width=28)
        table.add_column(ratio=1, overflow="fold")
        for header_field in node.headers:
            sent = header_field.raw.decode("utf-8", "replace").partition(":")[2]
            sent = " ".join(sent.split())
            decoded = " ".join(header_field.value.split())
            value = Text(sent)
            if decoded != sent:
                value.append(f"\n→ {decoded}", "italic")
            table.add_row(header_field.name + ":", value)
        return Group(Text(t("ui.headers"), "bold"), table)

    # -- content ---------------------------------------------------------------------

    def _fill_content(self, node: MimeNode) -> None:
        t = self.texts
        view = self._static("#part-view")
        encoded_box = self._static("#content-encoded")
        decoded_box = self._static("#content-decoded")
        content = self.query_one("#part-content")
        if node.children:
            view.display = True
            content.display = False
            view.update(self._container_text(node))
            return
        view.display = True
        mode_name = t(f"ui.view-{self.mode}")
        view.update(Text(t("ui.content") + " · " + t("ui.view", mode=mode_name), "bold"))
        content.display = True
        encoded_box.display = self.mode in ("both", "encoded")
        decoded_box.display = self.mode in ("both", "decoded")
        encoded_box.update(self._encoded(node))
        decoded_box.update(self._decoded(node, narrow=self.mode == "both"))

    def _container_text(self, node: MimeNode) -> Text:
        t = self.texts
        text = Text()
        inner = node.encapsulated
        if inner is not None:
            text.append(t("ui.message-content", section=inner.header_section))
            return text
        if node.maintype == "multipart":
            text.append(t("ui.multipart-content", count=len(node.children), boundary=node.boundary or "?"))
        elif node.is_message and node.children:  # a message whose body is one message/*
            text.append(t("ui.message-content", section=node.children[0].header_section))
        for title, span in (("ui.preamble", node.preamble), ("ui.epilogue", node.epilogue)):
            if span and span[1] > span[0]:
                raw = node.source[span[0] : min(span[1], span[0] + PREVIEW_OCTETS)]
                text.append(f"\n\n{t(title)}\n", "bold")
                text.append(raw.decode("utf-8", "replace").strip("\r\n") or t("ui.empty"), "dim")
        return text

    def _encoded(self, node: MimeNode) -> Text:
        t = self.texts
        text = Text()
        text.append(t("ui.encoded", encoding=node.transfer_encoding, size=f"{node.size:,}") + "\n", "bold underline")
        body = node.source[node.body_start : min(node.end, node.body_start + PREVIEW_OCTETS)]
        lines = body.decode("utf-8", "replace").splitlines()
        text.append("\n".join(lines[:PREVIEW_LINES]) or t("ui.empty"), "dim" if node.transfer_encoding == "base64" else "")
        self._more(text, node.size, len("\n".join(lines[:PREVIEW_LINES]).encode("utf-8", "replace")))
        return text

    def _decoded(self, node: MimeNode, *, narrow: bool) -> RenderableType:
        t = self.texts
        payload = node.payload
        if isinstance(payload, str):
            text = Text()
            text.append(t("ui.decoded-text", charset=node.charset or "us-ascii", chars=f"{len(payload):,}") + "\n",
                        "bold underline")
            if node.transfer_encoding in ("7bit", "8bit", "binary"):
                text.append(t("ui.same-as-sent", encoding=node.transfer_encoding) + "\n", "italic dim")
            lines = payload[:PREVIEW_OCTETS].splitlines()[:PREVIEW_LINES]
            text.append("\n".join(lines) or t("ui.empty"))
            if node.content_type == "text/html":
                text.append("\n\n" + t("ui.html-rendered") + "\n", "bold underline")
                rendered = html_to_text(payload[: PREVIEW_OCTETS * 4])
                text.append("\n".join(rendered.splitlines()[:PREVIEW_LINES]) or t("ui.empty"))
            if len(payload) > PREVIEW_OCTETS:
                text.append("\n" + t("ui.truncated", more=f"{len(payload) - PREVIEW_OCTETS:,}"), "italic dim")
            return text
        data = payload if isinstance(payload, bytes) else b""
        text = Text()
        text.append(t("ui.hex", type=node.content_type, size=f"{len(data):,}") + "\n", "bold underline")
        dump = hex_dump(data, width=8 if narrow else 16, limit=256 if narrow else 512)
        text.append("\n".join(dump) or t("ui.empty"))
        self._more(text, len(data), 256 if narrow else 512)
        return text

    def _more(self, text: Text, total: int, shown: int) -> None:
        if total > shown:
            text.append("\n" + self.texts("ui.truncated", more=f"{total - shown:,}"), "italic dim")
