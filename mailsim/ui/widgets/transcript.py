"""The transcript: every line of a session, `C:` / `S:` in the gutter, virtualised.

A line-API widget (only the visible rows are rendered, each once, from a cache), so a
session of 100,000 lines scrolls as fast as one of ten. The lines live in the
SessionModel; this widget only draws them. Server lines are coloured by reply class;
commands and replies are highlighted by the Pygments lexers of `mailsim.lexers` when
that module provides one for the protocol. The byte view shows what is really on the
wire: control characters as symbols, CRLF as `␍␊`, and the octet count of each line.

IMAP's three kinds of server line look different: a tag (the same chip on the command
and on its completion), the untagged `*`, and the continuation request `+`. A tagged
completion is followed by the command it completes (`← FETCH`), dim and italic, after
the wire text: an annotation, never part of the bytes shown.

After TLS starts, the byte view shows what an eavesdropper sees instead: the octets of
the TLS record that carried each line (in the console, where they are known), never the
text. In the student's own console the base64 of a SASL exchange is decoded beside it,
with a warning when a password crossed the wire unencrypted.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mailsim.events import Protocol, ReplyClass
from mailsim.ui.model import Direction, SessionModel, TranscriptLine
from mailsim.ui.widgets.fixed_box import FixedBoxScrolling

Describe = Callable[[TranscriptLine], str]

_CLASS_COMPONENT = {
    ReplyClass.SUCCESS: "transcript--success",
    ReplyClass.INTERMEDIATE: "transcript--intermediate",
    ReplyClass.TRANSIENT: "transcript--transient",
    ReplyClass.PERMANENT: "transcript--permanent",
    ReplyClass.BAD: "transcript--bad",
    ReplyClass.DATA: "transcript--data",
    ReplyClass.NEGATIVE: "transcript--negative",
    ReplyClass.CLOSING: "transcript--closing",
}

# Pygments token families -> our component classes (the theme decides the colours).
_TOKEN_COMPONENT = (
    ("Keyword", "transcript--keyword"),
    ("Name.Tag", "transcript--tag"),
    ("Name", "transcript--name"),
    ("Literal.String", "transcript--string"),
    ("Literal.Number", "transcript--number"),
    ("Generic.Error", "transcript--permanent"),
    ("Generic.Heading", "transcript--success"),
    ("Comment", "transcript--data"),
    ("Operator", "transcript--operator"),
    ("Punctuation", "transcript--operator"),
)

# IMAP's response markers (RFC 3501 §2.2.2): untagged data and the continuation request.
_IMAP_MARKER_COMPONENT = {"*": "transcript--untagged", "+": "transcript--continuation"}
COMPLETES_ARROW = "  ← "
DECODED_ARROW = "  ⇢ "
LOCK = "TLS│ "
CIPHER_PREVIEW = 20  # octets of a TLS record shown in the byte view
CONTINUATION = " ↪ "  # the gutter of a wrapped line's next rows (as wide as "C: ")
INFO_GUTTER = " ·  "
_CONTROL_BYTES = bytes(range(32)) + b"\x7f"

_LEXER_NAMES = {Protocol.SMTP: "SmtpLexer", Protocol.POP3: "Pop3Lexer", Protocol.IMAP: "ImapLexer"}


@lru_cache(maxsize=None)
def lexer_for(protocol: Protocol) -> Any | None:
    """The dialog lexer of `mailsim.lexers` for this protocol, or None if not there yet."""
    try:
        from mailsim import lexers  # type: ignore[attr-defined]
    except ImportError:
        return None
    cls = getattr(lexers, _LEXER_NAMES[protocol], None)
    try:
        return cls(stripnl=False, ensurenl=False) if cls is not None else None
    except Exception:  # a half-written lexer must not take the console down
        return None


def _control_pictures(data: bytes) -> str:
    """Bytes as text with every control character visible (U+2400 Control Pictures)."""
    text = data.decode("utf-8", errors="replace")
    out = []
    for char in text:
        code = ord(char)
        if code < 32:
            out.append(chr(0x2400 + code))
        elif code == 127:
            out.append("\u2421")
        else:
            out.append(char)
    return "".join(out)


def _plain(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").rstrip("\r\n")
    return "".join(chr(0x2400 + ord(c)) if ord(c) < 32 and c != "\t" else c for c in text).expandtabs(4)


class TranscriptView(FixedBoxScrolling, ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "transcript--gutter-client",
        "transcript--gutter-server",
        "transcript--gutter-info",
        "transcript--client",
        "transcript--content",
        "transcript--info",
        "transcript--octets",
        "transcript--crlf",
        "transcript--annotation",
        "transcript--cipher",
        "transcript--warning",
        *_IMAP_MARKER_COMPONENT.values(),
        *_CLASS_COMPONENT.values(),
        *(component for _token, component in _TOKEN_COMPONENT),
    }

    show_bytes: reactive[bool] = reactive(False)

    def __init__(self, model: SessionModel, describe: Describe, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.describe = describe
        self._cache: dict[int, list[Strip]] = {}
        self._shown = 0
        self._width = 0
        self._base: Style | None = None  # the widget's own style, asked once per style change
        self._cells: list[int] = []   # each line's width unwrapped
        self._starts: list[int] = []  # each line's first row
        self._rows = 0
        self._wrap_at = 0             # the width the rows were counted for (0: not wrapping)
        self._at_end = True           # the reader was at the end before a resize

    # -- feeding ------------------------------------------------------------------------

    def sync(self) -> None:
        """Take the lines the model gained since the last call; follow the end if there."""
        count = len(self.model.lines)
        if count == self._shown:
            return
        follow = self.is_vertical_scroll_end or self._shown == 0
        start, self._shown = self._shown, count
        lines = self.model.lines
        for index in range(start, count):
            cells = self._line_cells(lines[index])
            self._cells.append(cells)
            self._width = max(self._width, cells)
            self._starts.append(self._rows)
            self._rows += self._row_count(index, cells)
        self._set_virtual_size()
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False, x_axis=False)
        self.refresh()

    def redraw(self) -> None:
        """Forget every rendered line (language, byte view or theme changed)."""
        self._cache.clear()
        self._width = 0
        self._shown = 0
        self._cells.clear()
        self._starts.clear()
        self._rows = 0
        self._wrap_at = self._wrap_width()
        self.sync()
        self.refresh()

    @property
    def wrapping(self) -> bool:
        return not self.show_bytes

    def _wrap_width(self) -> int:
        width = self.scrollable_content_region.width
        if not self.wrapping or not width:  # the byte view, or not laid out yet
            return 0
        return max(width, 12)

    def on_resize(self) -> None:
        if self._wrap_width() != self._wrap_at:
            self._rewrap()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = self.is_vertical_scroll_end

    def _rewrap(self) -> None:
        """The pane changed width: count the rows again (arithmetic, no rendering)."""
        follow = self._at_end or self.is_vertical_scroll_end
        self._wrap_at = self._wrap_width()
        self._cache.clear()
        rows, starts = 0, []
        for index, cells in enumerate(self._cells):
            starts.append(rows)
            rows += self._row_count(index, cells)
        self._starts, self._rows = starts, rows
        self._set_virtual_size()
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False, x_axis=False)
        self.refresh()

    def _set_virtual_size(self) -> None:
        width = self._wrap_at if self._wrap_at else self._width
        self.virtual_size = Size(width, self._rows)

    def _row_count(self, index: int, cells: int) -> int:
        width = self._wrap_at
        if not width or cells <= width:
            return 1
        if self.model.lines[index].direction is Direction.INFO:
            return len(self._info_rows(self.model.lines[index], width))
        return len(self._cuts(self.model.lines[index], cells, width)) + 1

    def _cuts(self, line: TranscriptLine, cells: int, width: int) -> list[int]:
        """Where a wire line longer than `width` is cut into rows (cell offsets): after
        the last space of a row when there is one in its second half, else at the edge.
        The bytes are all shown either way; the cut only decides where a row ends."""
        plain = self._plain_row_text(line)
        words = plain is not None and len(plain) == cells  # one cell per character
        cuts, start, room = [], 0, width
        while cells - start > room:
            end = start + room
            if words:
                space = plain.rfind(" ", start + room // 2, end)
                if space > start:
                    end = space + 1
            cuts.append(end)
            start, room = end, width - len(CONTINUATION)
        return cuts

    def _plain_row_text(self, line: TranscriptLine) -> str | None:
        """The text `_render` draws for a wire line, when it is plain ASCII."""
        stripped = line.data.rstrip(b"\r\n")
        if not stripped.isascii() or len(stripped.translate(None, _CONTROL_BYTES)) != len(stripped):
            return None
        annotation = COMPLETES_ARROW + line.completes if line.completes else ""
        return "C: " + stripped.decode("ascii") + annotation

    def line_at_row(self, row: int) -> tuple[int, int]:
        """(line index, row within that line) of a row of the transcript."""
        index = bisect_right(self._starts, row) - 1
        return index, row - self._starts[index]

    def watch_show_bytes(self) -> None:
        self.redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._base = None

    @property
    def base_style(self) -> Style:
        """`rich_style` walks every ancestor; a frame asks for it on each of its rows."""
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _line_cells(self, line: TranscriptLine) -> int:
        """A line's width unwrapped, exactly as `_render` draws it (cheap for ASCII)."""
        if line.direction is Direction.INFO:
            return len(INFO_GUTTER) + cell_len(self.describe(line))
        annotation = len(COMPLETES_ARROW) + len(line.completes) if line.completes else 0
        if line.decoded or line.cleartext_password:
            annotation += cell_len(self._decoded_text(line))
        if self.show_bytes and line.encrypted:
            return 9 + cell_len(self._cipher_text(line))
        data = line.data
        if self.show_bytes:
            body = len(data) if data.isascii() else cell_len(_control_pictures(data))
            return 3 + 6 + body + annotation
        stripped = data.rstrip(b"\r\n")
        if stripped.isascii() and len(stripped.translate(None, _CONTROL_BYTES)) == len(stripped):
            body = len(stripped)
        else:
            body = cell_len(_plain(data))
        return 3 + body + annotation

    def _decoded_text(self, line: TranscriptLine) -> str:
        warning = self.app.strings("tls.cleartext-password") if line.cleartext_password else ""
        return (DECODED_ARROW + line.decoded if line.decoded else "") + (f"  {warning}" if warning else "")

    def _cipher_text(self, line: TranscriptLine) -> str:
        """What an eavesdropper sees of an encrypted line (after the octet count)."""
        if line.wire:
            preview = line.wire[:CIPHER_PREVIEW].hex(" ")
            return LOCK + preview + (" …" if len(line.wire) > CIPHER_PREVIEW else "")
        if self.model.connection is not None:
            return LOCK + self.app.strings("tls.same-record")
        return LOCK + self.app.strings("tls.unknown-octets")

    # -- keys: a transcript jumps (an animated page of 100,000 lines only delays the reading)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_scroll_home(self) -> None:
        self.scroll_home(animate=False, x_axis=False)

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False, x_axis=False)

    # -- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        base = self.base_style
        if row >= self._rows:
            return Strip.blank(width, base)
        index, part = self.line_at_row(row)
        rows = self._cache.get(index)
        if rows is None:
            rows = self._render_rows(self.model.lines[index], base)
            if len(self._cache) > 4000:
                self._cache.clear()
            self._cache[index] = rows
        strip = rows[min(part, len(rows) - 1)]
        if self._wrap_at:
            return strip.crop_extend(0, width, base).apply_offsets(0, index)
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_offsets(scroll_x, index)

    def line_rows(self, index: int) -> list[str]:
        """The rows line `index` is drawn on, as text (what a reader of the pane sees)."""
        return [strip.text for strip in self._render_rows(self.model.lines[index], self.base_style)]

    def _render_rows(self, line: TranscriptLine, base: Style) -> list[Strip]:
        """The line's rows: one, or its wrapped pieces, each after the first marked `↪`."""
        width = self._wrap_at
        if line.direction is Direction.INFO and width:
            pieces = self._info_rows(line, width)
            gutter = Text(INFO_GUTTER, self._style("transcript--gutter-info"), end="")
            mark = Text(CONTINUATION + " ", self._style("transcript--gutter-info"), end="")
            return [self._strip(Text.assemble(gutter if n == 0 else mark, piece, end=""), base)
                    for n, piece in enumerate(pieces)]
        whole = self._render(line, base)
        if not width or whole.cell_length <= width:
            return [whole]
        mark = self._strip(Text(CONTINUATION, self._style("transcript--gutter-info"), end=""), base)
        pieces = whole.divide(self._cuts(line, whole.cell_length, width) + [whole.cell_length])
        return [pieces[0], *(Strip.join([mark, piece]) for piece in pieces[1:])]

    def _info_rows(self, line: TranscriptLine, width: int) -> list[Text]:
        """A note (or any line not on the wire) wrapped at word boundaries."""
        text = Text(self.describe(line), self._style("transcript--info"), end="")
        return list(text.wrap(self.app.console, max(width - len(INFO_GUTTER), 8))) or [Text("")]

    def _strip(self, text: Text, base: Style) -> Strip:
        strip = Strip(list(text.render(self.app.console)), text.cell_len)
        return strip.apply_style(base) if base else strip

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _render(self, line: TranscriptLine, base: Style) -> Strip:
        text = Text(no_wrap=True, end="")
        if line.direction is Direction.INFO:
            text.append(INFO_GUTTER, self._style("transcript--gutter-info"))
            text.append(self.describe(line), self._style("transcript--info"))
        else:
            client = line.direction is Direction.CLIENT
            gutter = "C: " if client else "S: "
            text.append(gutter, self._style("transcript--gutter-client" if client else "transcript--gutter-server"))
            if self.show_bytes and line.encrypted:
                octets = f"{len(line.wire):>5} " if line.wire else "      "
                text.append(octets, self._style("transcript--octets"))
                text.append(self._cipher_text(line), self._style("transcript--cipher"))
            elif self.show_bytes:
                text.append(f"{len(line.data):>5} ", self._style("transcript--octets"))
                body = _control_pictures(line.data)
                crlf = body.endswith("\u240d\u240a")
                if crlf:
                    body = body[:-2]
                text.append_text(self._highlight(line, body))
                if crlf:
                    text.append("\u240d\u240a", self._style("transcript--crlf"))
            else:
                text.append_text(self._highlight(line, _plain(line.data)))
            if line.completes:
                text.append(COMPLETES_ARROW + line.completes, self._style("transcript--annotation"))
            if (line.decoded or line.cleartext_password) and not (self.show_bytes and line.encrypted):
                if line.decoded:
                    text.append(DECODED_ARROW + line.decoded, self._style("transcript--annotation"))
                if line.cleartext_password:
                    text.append("  " + self.app.strings("tls.cleartext-password"), self._style("transcript--warning"))
        segments = list(text.render(self.app.console))
        strip = Strip(segments, text.cell_len)
        return strip.apply_style(base) if base else strip

    def _highlight(self, line: TranscriptLine, body: str) -> Text:
        if line.content:
            return Text(body, self._style("transcript--content"), end="")
        if line.direction is Direction.SERVER:
            component = _CLASS_COMPONENT.get(line.reply_class) if line.reply_class else None
            base = self._style(component) if component else self._style("transcript--content")
        else:
            base = self._style("transcript--client")
        lexer = lexer_for(self.model.protocol)
        if lexer is None:
            return Text(body, base, end="")
        text = Text(end="")
        try:
            prefix = "C: " if line.direction is Direction.CLIENT else "S: "
            tokens = list(lexer.get_tokens(prefix + body))
        except Exception:
            return Text(body, base, end="")
        # The lexers read RFC-style dialogs; drop the prefix we gave them again.
        skip = len(prefix)
        code_pending = line.direction is Direction.SERVER  # the code keeps its class colour
        imap = self.model.protocol is Protocol.IMAP
        marker_pending = imap and line.direction is Direction.SERVER
        for token, value in tokens:
            if skip:
                cut = min(skip, len(value))
                value, skip = value[cut:], skip - cut
            if not value:
                continue
            value = value.rstrip("\n")
            if marker_pending and value.strip():
                # The line's first word says what it is: a tag, "*" or "+". The status
                # word after it (OK, NO, BAD) keeps the reply class colour.
                marker_pending = False
                marker = _IMAP_MARKER_COMPONENT.get(value)
                text.append(value, base + self._style(marker or "transcript--tag"))
                code_pending = marker is None or str(token).startswith("Token.Reply") and value != "+"
                continue
            if code_pending and imap and value.strip() and not str(token).startswith("Token.Reply"):
                code_pending = False  # "* 7 EXISTS": no status word to colour
            if code_pending and value.strip():
                code_pending = False
                text.append(value, base + Style(bold=True))
            else:
                text.append(value, base + self._token_style(token))
        if text.plain != body:  # the lexer rewrote something: trust the bytes
            return Text(body, base, end="")
        return text

    def _token_style(self, token: Any) -> Style:
        name = str(token).removeprefix("Token.")
        for family, component in _TOKEN_COMPONENT:
            if name == family or name.startswith(family + "."):
                return self._style(component)
        return Style()
