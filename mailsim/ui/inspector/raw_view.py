"""The raw source of a message, every octet as sent, virtualised.

Only the rows on screen are rendered (Textual's line API), so a 25 MB message
opens as fast as a short one: the widget keeps the offsets of the line starts
(one regex pass) and a partition of the source into regions taken from the
MIME model (header blocks, blank separators, bodies, boundary lines,
preambles, epilogues).  Header blocks are highlighted with Pygments'
``EmailLexer`` (which uses ``MIMELexer`` for Content-Type), lexed one block
at a time when first shown; bodies are coloured by transfer encoding;
boundary lines are marked in the gutter.  The selected part's byte range
is highlighted exactly, octet for octet.
"""

from __future__ import annotations

import bisect
import re
from array import array
from dataclasses import dataclass
from typing import Any

from pygments.lexers import EmailLexer
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mailsim.mime import MimeModel, MimeNode

GUTTER = 8
MAX_LINE_CHARS = 4000
_NEWLINE = re.compile(b"\n")
_CONTROL = {code: chr(0x2400 + code) for code in range(32) if code not in (9,)}
_CONTROL[9] = " "
_CONTROL[127] = "\u2421"

# Pygments token families -> component classes (the theme decides colours).
_TOKEN_COMPONENT = (
    ("Name.Tag", "raw-view--field"),
    ("Name.Attribute", "raw-view--parameter"),
    ("Name.Label", "raw-view--value"),
    ("Name.Decorator", "raw-view--value"),
    ("Name.Constant", "raw-view--charset"),
    ("Keyword", "raw-view--charset"),
    ("Literal.String.Affix", "raw-view--encoded-word"),
    ("Literal.Number.Hex", "raw-view--encoded-word"),
    ("Literal.String", "raw-view--string"),
    ("Operator", "raw-view--punctuation"),
    ("Comment", "raw-view--header"),
)


@dataclass(frozen=True, slots=True)
class Region:
    """A stretch of the source with one role: ``header``, ``separator``,
    ``body``, ``encoded`` (a base64/quoted-printable body), ``boundary``,
    ``preamble`` or ``epilogue``."""

    start: int
    end: int
    kind: str
    node: MimeNode


def regions_of(model: MimeModel) -> list[Region]:
    """The regions that partition ``model.raw``, in order."""
    found: list[Region] = []
    for node in model.walk():
        found.append(Region(node.header_start, node.header_end, "header", node))
        if node.body_start > node.header_end:
            found.append(Region(node.header_end, node.body_start, "separator", node))
        if node.maintype == "multipart" and node.children:
            cursor = node.body_start
            if node.preamble is not None:
                found.append(Region(node.preamble[0], node.preamble[1], "preamble", node))
                cursor = node.preamble[1]
            for child in node.children:
                if child.header_start > cursor:
                    found.append(Region(cursor, child.header_start, "boundary", node))
                cursor = child.end
            close_end = node.epilogue[0] if node.epilogue is not None else node.end
            if close_end > cursor:
                found.append(Region(cursor, close_end, "boundary", node))
            if node.epilogue is not None and node.epilogue[1] > node.epilogue[0]:
                found.append(Region(node.epilogue[0], node.epilogue[1], "epilogue", node))
        elif not node.children and node.end > node.body_start:
            encoded = node.transfer_encoding in ("base64", "quoted-printable")
            found.append(Region(node.body_start, node.end, "encoded" if encoded else "body", node))
    found.sort(key=lambda region: (region.start, region.end))
    return [region for region in found if region.end > region.start]


class RawSourceView(ScrollView, can_focus=True):
    """The whole message, highlighted, with one byte range marked."""

    COMPONENT_CLASSES = {
        "raw-view--gutter",
        "raw-view--gutter-section",
        "raw-view--selected-bar",
        "raw-view--selected",
        "raw-view--header",
        "raw-view--field",
        "raw-view--parameter",
        "raw-view--value",
        "raw-view--charset",
        "raw-view--encoded-word",
        "raw-view--string",
        "raw-view--punctuation",
        "raw-view--body",
        "raw-view--encoded",
        "raw-view--boundary",
        "raw-view--preamble",
        "raw-view--eol",
    }

    def __init__(self, model: MimeModel | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model: MimeModel | None = None
        self.line_starts = array("q", [0])
        self.regions: list[Region] = []
        self._region_starts: list[int] = []
        self.selection: tuple[int, int] | None = None
        self.selection_label = ""
        self._lexed: dict[int, list[list[tuple[Any, str]]]] = {}
        self._cache: dict[int, Strip] = {}
        self._width = 0
        if model is not None:
            self.set_model(model)

    # -- feeding -------------------------------------------------------------------

    def set_model(self, model: MimeModel) -> None:
        """Show another message (the composer calls this on every change)."""
        raw = model.raw
        self.model = model
        starts = array("q", [0])
        starts.extend(match.end() for match in _NEWLINE.finditer(raw))
        if len(starts) > 1 and starts[-1] == len(raw):
            starts.pop()  # a final line end does not start another line
        self.line_starts = starts
        self.regions = regions_of(model)
        self._region_starts = [region.start for region in self.regions]
        self._lexed.clear()
        self._cache.clear()
        self.selection = None
        # The width grows as longer lines are drawn: measuring every line of
        # 25 MB up front would cost more than opening the whole screen.
        sample_end = starts[min(len(starts) - 1, 2000)] if len(starts) > 2000 else len(raw)
        longest = max(map(len, raw[:sample_end].split(b"\n")), default=0)
        self._width = GUTTER + min(max(longest, 60), MAX_LINE_CHARS) + 2
        self.virtual_size = Size(self._width, len(starts))
        self.refresh()

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        """The index of the line holding byte ``offset``."""
        return max(0, bisect.bisect_right(self.line_starts, offset) - 1)

    def select_range(self, start: int, end: int, label: str = "", *, scroll: bool = True) -> None:
        """Highlight octets ``[start, end)`` and bring their first line into view."""
        self.selection = (start, end)
        self.selection_label = label
        self._cache.clear()
        self.refresh()
        if scroll:
            self.scroll_to_selection()

    def scroll_to_selection(self) -> None:
        if self.selection is None:
            return
        first = self.line_of(self.selection[0])
        last = self.line_of(max(self.selection[0], self.selection[1] - 1))
        height = max(1, self.scrollable_content_region.height)
        top, bottom = self.scroll_y, self.scroll_y + height
        if top <= first and last < bottom:
            return  # all of it is on screen already
        self.scroll_to(y=max(0, first - 1), animate=False, immediate=True)

    def _grow(self) -> None:
        self.virtual_size = Size(self._width, self.line_count)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- regions ---------------------------------------------------------------------------

    def region_at(self, offset: int) -> Region | None:
        index = bisect.bisect_right(self._region_starts, offset) - 1
        while index >= 0:
            region = self.regions[index]
            if region.start <= offset < region.end:
                return region
            if region.end <= offset:
                break
            index -= 1
        return None

    def visible_selected_lines(self) -> range:
        """The line indexes the selection covers (for tests and the title)."""
        if self.selection is None:
            return range(0)
        start, end = self.selection
        return range(self.line_of(start), self.line_of(max(start, end - 1)) + 1)

    # -- rendering ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if self.model is None or index >= self.line_count:
            return Strip.blank(width, base)
        strip = self._cache.get(index)
        if strip is None:
            strip = self._render_strip(index, base)
            if strip.cell_length > self._width:
                self._width = strip.cell_length
                self.call_later(self._grow)
            if len(self._cache) > 2000:
                self._cache.clear()
            self._cache[index] = strip
        gutter = strip.crop(0, GUTTER)
        body = strip.crop_extend(GUTTER + scroll_x, GUTTER + scroll_x + width - GUTTER, base)
        return Strip.join([gutter, body]).apply_offsets(scroll_x, index)

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _line_bytes(self, index: int) -> tuple[int, bytes, bytes]:
        raw = self.model.raw  # type: ignore[union-attr]
        start = self.line_starts[index]
        end = self.line_starts[index + 1] if index + 1 < self.line_count else len(raw)
        line = raw[start:end]
        content = line.rstrip(b"\r\n")
        return start, content, line[len(content) :]

    def _render_strip(self, index: int, base: Style) -> Strip:
        start, content, eol = self._line_bytes(index)
        region = self.region_at(start) or self.region_at(max(0, start - 1))
        text = Text(no_wrap=True, end="")
        text.append_text(self._gutter(index, start, region))
        text.append_text(self._content(index, start, content, region))
        if eol:
            text.append("↵" if eol == b"\r\n" else "␊" if eol == b"\n" else "␍", self._style("raw-view--eol"))
        segments = list(text.render(self.app.console))
        strip = Strip(segments, text.cell_len)
        return strip.apply_style(base) if base else strip

    def _gutter(self, index: int, start: int, region: Region | None) -> Text:
        gutter = Text(no_wrap=True, end="")
        label = ""
        if region is not None:
            if region.kind == "boundary":
                label = "──" + ("┤" if self._is_close(index) else "")
            elif region.kind == "header" and self.line_of(region.start) == index:
                label = region.node.header_section if region.node.is_message else region.node.label
            elif (
                region.kind in ("body", "encoded")
                and region.node.header_end == region.node.header_start
                and self.line_of(region.start) == index
            ):
                label = region.node.label
        label = label[: GUTTER - 2]
        style = "raw-view--gutter-section" if label else "raw-view--gutter"
        gutter.append(label.ljust(GUTTER - 2), self._style(style))
        selected = self.selection is not None and self._overlaps(index)
        gutter.append("▌" if selected else " ", self._style("raw-view--selected-bar" if selected else "raw-view--gutter"))
        gutter.append(" ", self._style("raw-view--gutter"))
        return gutter

    def _is_close(self, index: int) -> bool:
        _start, content, _eol = self._line_bytes(index)
        return content.rstrip(b" \t").endswith(b"--") and content.startswith(b"--")

    def _overlaps(self, index: int) -> bool:
        start, end = self.selection  # type: ignore[misc]
        line_start = self.line_starts[index]
        line_end = self.line_starts[index + 1] if index + 1 < self.line_count else len(self.model.raw)  # type: ignore[union-attr]
        return line_start < end and start < line_end or (start == end == line_start)

    def _content(self, index: int, start: int, content: bytes, region: Region | None) -> Text:
        clipped = content[:MAX_LINE_CHARS]
        plain = _visible(clipped)
        if region is not None and region.kind == "header":
            text = self._header_line(region, index, plain)
        else:
            kind = region.kind if region is not None else "body"
            component = {
                "boundary": "raw-view--boundary",
                "encoded": "raw-view--encoded",
                "preamble": "raw-view--preamble",
                "epilogue": "raw-view--preamble",
            }.get(kind, "raw-view--body")
            text = Text(plain, self._style(component), no_wrap=True, end="")
        if len(content) > MAX_LINE_CHARS:
            text.append(f" … +{len(content) - MAX_LINE_CHARS}", self._style("raw-view--eol"))
        if self.selection is not None:
            sel_start, sel_end = self.selection
            first = min(max(sel_start - start, 0), len(clipped))
            last = min(max(sel_end - start, 0), len(clipped))
            if last > first:
                a = len(_visible(clipped[:first]))
                b = len(_visible(clipped[:last]))
                text.stylize(self._style("raw-view--selected"), a, b)
        return text

    def _header_line(self, region: Region, index: int, plain: str) -> Text:
        lines = self._lexed.get(region.start)
        if lines is None:
            lines = self._lex_header(region)
            self._lexed[region.start] = lines
        offset = index - self.line_of(region.start)
        if not 0 <= offset < len(lines):
            return Text(plain, self._style("raw-view--header"), no_wrap=True, end="")
        text = Text(no_wrap=True, end="")
        for token, value in lines[offset]:
            text.append(value, self._token_style(token))
        if text.plain != plain:  # the lexer changed something: trust the octets
            return Text(plain, self._style("raw-view--header"), no_wrap=True, end="")
        return text

    def _lex_header(self, region: Region) -> list[list[tuple[Any, str]]]:
        raw = self.model.raw[region.start : region.end]  # type: ignore[union-attr]
        source_lines = raw.split(b"\n")
        if source_lines and source_lines[-1] == b"":
            source_lines.pop()
        visible = [_visible(line.rstrip(b"\r")[:MAX_LINE_CHARS]) for line in source_lines]
        lines: list[list[tuple[Any, str]]] = [[]]
        try:
            tokens = EmailLexer(stripnl=False, ensurenl=True).get_tokens("\n".join(visible) + "\n")
            for token, value in tokens:
                parts = value.split("\n")
                for number, part in enumerate(parts):
                    if number:
                        lines.append([])
                    if part:
                        lines[-1].append((token, part))
        except Exception:
            return [[(None, line)] for line in visible]
        return lines[: len(visible)]

    def _token_style(self, token: Any) -> Style:
        name = str(token).removeprefix("Token.")
        for family, component in _TOKEN_COMPONENT:
            if name == family or name.startswith(family + "."):
                return self._style(component)
        return self._style("raw-view--header")


def _visible(data: bytes) -> str:
    """Octets as one character each where possible: UTF-8 decoded, control
    characters as their Control Pictures, tabs as a space (so the byte range
    and the characters line up)."""
    return data.decode("utf-8", "replace").translate(_CONTROL)
