"""The MIME tree of one message, built from its raw bytes.

Why not just ``email.message_from_bytes``?  The stdlib gives a correct tree but
no byte offsets, and its line-by-line feed parser needs seconds for a 25 MB
message.  Here the *structure* (where each part's header, body and boundaries
lie) is found by scanning the raw bytes with ``bytes.find``, replaying the
exact rules of ``email.feedparser`` (universal line endings, ``headerRE``,
boundary regex, the newline before a boundary belonging to the boundary,
outer boundaries ending inner parts, adjacent boundary lines collapsed,
multipart/digest defaulting to message/rfc822).  The *meaning* of each
header block (content type, boundary, parameters, RFC 2047/2231 decoding)
comes from the stdlib itself, policy ``default``, applied to that block
only: so the tree has the same shape as the stdlib's, and costs a few
milliseconds whatever the body size.

Decoded payloads are computed on first access and cached; raw fidelity needs
no ``compat32`` because every raw view (header block, encoded body) is a
slice of the original bytes, never a re-serialisation.

Known, deliberate differences from the stdlib, all on broken input:

* a multipart whose start boundary is missing (or whose first delimiter is
  the close delimiter) keeps its whole body as the payload (the stdlib keeps
  the text before a stray close delimiter only, and keeps the newline that
  RFC 2046 gives to the next outer boundary);
* message/delivery-status is a leaf (the stdlib splits it into header
  blocks; IMAP, and the inspector, treat it as one body);
* nesting deeper than ``MAX_DEPTH`` stops: the deepest entity becomes a
  leaf with a ``nesting-too-deep`` defect instead of exhausting the stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from functools import cached_property
from typing import overload

__all__ = [
    "MAX_DEPTH",
    "Defect",
    "HeaderField",
    "MimeModel",
    "MimeNode",
    "build_model",
]

#: Deeper entities become leaves; far beyond any real message, well within
#: Python's recursion limit.
MAX_DEPTH = 200

# The stdlib's own patterns (email.feedparser), in bytes.
_HEADER_LINE = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:|[\t ]")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_CR, _LF, _SP, _TAB = 13, 10, 32, 9



class _ReadOnlyMessage(EmailMessage):
    """An EmailMessage that parses each header once.

    Policy ``default`` builds a new header object on every access, and
    get_content_type/get_boundary/get_filename each fetch Content-Type
    again: five parses per node.  Our header-only messages are never
    modified, so caching the fetch is safe and cuts build time by 4x.
    """

    def get(self, name, failobj=None):
        cache = self.__dict__.setdefault("_fetched", {})
        key = name.lower()
        if key not in cache:
            cache[key] = super().get(name, _MISSING)
        value = cache[key]
        return failobj if value is _MISSING else value


_MISSING = object()
_POLICY = email_policy.default.clone(message_factory=_ReadOnlyMessage)
_HEADER_PARSER = BytesHeaderParser(policy=_POLICY)


@dataclass(frozen=True)
class Defect:
    """A problem the parser noticed and tolerated.

    ``code`` is a short English identifier the UI translates
    (``missing-header-body-separator``); ``kind`` is the stdlib class name;
    ``detail`` is the stdlib's own message, if any.
    """

    code: str
    kind: str
    detail: str = ""

    @classmethod
    def from_stdlib(cls, defect: Exception) -> Defect:
        kind = type(defect).__name__
        return cls(code=_defect_code(kind), kind=kind, detail=str(defect))


def _defect_code(kind: str) -> str:
    stem = kind.removesuffix("Defect") or kind
    return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()


@dataclass(frozen=True)
class HeaderField:
    """One header field: its name as written, decoded value and raw bytes.

    ``raw`` is the whole field as in the source (name, colon, folded value,
    line ending), so HEADER.FIELDS can return it untouched.
    """

    name: str
    value: str
    raw: bytes


@dataclass(frozen=True, eq=False)
class MimeNode:
    """One entity of the tree: a message (root or encapsulated) or a part.

    Byte offsets index the original raw bytes: the header block is
    ``[header_start, header_end)``, the blank separator line (if any) is
    ``[header_end, body_start)``, the encoded body ``[body_start, end)``.

    IMAP addressing (RFC 3501 §6.4.5): ``part_number`` is the numeric
    section whose content is this entity's body (``"1"``, ``"2.1"``), or
    None for a message whose body is multipart (its body is
    ``text_section``).  ``header_section`` is ``"HEADER"``/``"2.HEADER"`` for
    messages and ``"2.1.MIME"`` for parts.
    """

    source: bytes = field(repr=False)
    header_start: int
    header_end: int
    body_start: int
    end: int
    depth: int
    is_message: bool
    content_type: str
    parameters: tuple[tuple[str, str], ...]
    charset: str | None
    boundary: str | None
    disposition: str | None
    disposition_parameters: tuple[tuple[str, str], ...]
    filename: str | None
    transfer_encoding: str
    content_id: str | None
    description: str | None
    language: str | None
    md5: str | None
    location: str | None
    part_number: str | None
    header_section: str
    text_section: str | None
    children: tuple[MimeNode, ...]
    defects: tuple[Defect, ...]
    preamble: tuple[int, int] | None = None
    epilogue: tuple[int, int] | None = None

    # -- type -----------------------------------------------------------
    @property
    def maintype(self) -> str:
        return self.content_type.partition("/")[0]

    @property
    def subtype(self) -> str:
        return self.content_type.partition("/")[2]

    @property
    def is_multipart(self) -> bool:
        """True when the body was split into parts (not merely declared so)."""
        return self.maintype == "multipart" and bool(self.children)

    @property
    def encapsulated(self) -> MimeNode | None:
        """The message inside a message/* part, if this is one."""
        if self.maintype == "message" and self.children and self.children[0].is_message:
            return self.children[0]
        return None

    @property
    def label(self) -> str:
        """The section a UI shows for this node: its number, else ``TEXT``."""
        return self.part_number if self.part_number is not None else self.text_section or ""

    # -- raw views ------------------------------------------------------
    @property
    def header_bytes(self) -> bytes:
        """The header block exactly as in the source, without the blank line."""
        return self.source[self.header_start : self.header_end]

    @property
    def header_with_separator(self) -> bytes:
        """The header block plus its blank line (IMAP HEADER and MIME)."""
        return self.source[self.header_start : self.body_start]

    @property
    def body_bytes(self) -> bytes:
        """The encoded body, as in the source."""
        return self.source[self.body_start : self.end]

    @property
    def size(self) -> int:
        """Octets of the encoded body (what BODYSTRUCTURE reports)."""
        return self.end - self.body_start

    @property
    def lines(self) -> int:
        """Lines of the encoded body, counted as line feeds (as Dovecot does)."""
        return self.source.count(b"\n", self.body_start, self.end)

    # -- decoded views (lazy) ----------------------------------------------
    @cached_property
    def headers(self) -> tuple[HeaderField, ...]:
        """All header fields, in order, with RFC 2047 decoded values."""
        return tuple(_decoded_fields(self.header_bytes))

    def header(self, name: str) -> str | None:
        """The decoded value of the first field called ``name``."""
        wanted = name.lower()
        for header_field in self.headers:
            if header_field.name.lower() == wanted:
                return header_field.value
        return None

    def raw_header(self, name: str) -> bytes | None:
        """The first field's value as sent: unfolded, encoded words kept."""
        wanted = name.lower().encode("ascii", "replace")
        for raw_field in split_header_fields(self.header_bytes):
            field_name, _, value = raw_field.partition(b":")
            if field_name.strip().lower() == wanted:
                return unfold(value)
        return None

    @cached_property
    def payload(self) -> str | bytes | None:
        """The decoded body: str for text/*, bytes for other leaves, None for
        multiparts and encapsulated messages (their content is children)."""
        if self.children:
            return None
        message = _leaf_message(self)
        if self.maintype == "text":
            try:
                return message.get_content()
            except LookupError:  # unknown charset: best effort, never raise
                content = message.get_payload(decode=True)
                return content.decode("utf-8", "replace") if isinstance(content, bytes) else ""
            except Exception:
                return self.body_bytes.decode("utf-8", "replace")
        try:
            decoded = message.get_payload(decode=True)
        except Exception:
            decoded = None
        return decoded if isinstance(decoded, bytes) else self.body_bytes

    @cached_property
    def payload_defects(self) -> tuple[Defect, ...]:
        """Defects found while decoding the body (bad base64, ...)."""
        if self.children:
            return ()
        message = _leaf_message(self)
        try:
            message.get_payload(decode=True)
        except Exception:
            pass
        return tuple(Defect.from_stdlib(d) for d in message.defects)


def _leaf_message(node: MimeNode) -> EmailMessage:
    message = _HEADER_PARSER.parsebytes(node.header_bytes)
    message.set_payload(node.body_bytes.decode("ascii", "surrogateescape"))
    return message


@dataclass(frozen=True, eq=False)
class MimeModel:
    """A message's raw bytes and its MIME tree; built once, then read-only."""

    raw: bytes = field(repr=False)
    root: MimeNode

    def walk(self) -> Iterator[MimeNode]:
        """Every node, depth first, in document order (like Message.walk)."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def find(self, section: str) -> MimeNode | None:
        """The node a section label names (``"2.1"``, ``"TEXT"``, ``"3.HEADER"``)."""
        wanted = section.upper()
        for node in self.walk():
            if wanted in (node.part_number, node.header_section, node.text_section):
                return node
        return None

    @property
    def defects(self) -> tuple[Defect, ...]:
        """All structural and header defects of all nodes."""
        return tuple(d for node in self.walk() for d in node.defects)


# ---------------------------------------------------------------------------
# Building


def build_model(raw: bytes) -> MimeModel:
    """Build the tree of ``raw``; never raises on malformed input."""
    raw = bytes(raw)
    builder = _Builder(raw)
    root = builder.entity(0, len(raw), depth=0, default_type="text/plain", is_message=True, number="")
    return MimeModel(raw=raw, root=root)


def _join(prefix: str, item: str) -> str:
    return f"{prefix}.{item}" if prefix else item


@dataclass
class _HeaderInfo:
    content_type: str = "text/plain"
    parameters: tuple[tuple[str, str], ...] = ()
    boundary: str | None = None
    disposition: str | None = None
    disposition_parameters: tuple[tuple[str, str], ...] = ()
    filename: str | None = None
    transfer_encoding: str = "7bit"
    content_id: str | None = None
    description: str | None = None
    language: str | None = None
    md5: str | None = None
    location: str | None = None
    defects: list[Defect] = field(default_factory=list)


class _Builder:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    # -- lines and headers ---------------------------------------------------
    def _line_end(self, pos: int, end: int) -> int:
        found = _LINE_END.search(self.raw, pos, end)
        return found.end() if found else end

    def _scan_header(self, start: int, end: int) -> tuple[int, int, bool]:
        """Where the header block ends and the body starts, as the feed
        parser decides; the flag says the blank separator line was missing."""
        raw = self.raw
        pos = start
        last_line_start = -1
        while pos < end:
            line_end = self._line_end(pos, end)
            if not _HEADER_LINE.match(raw, pos, line_end):
                if raw[pos] in (_CR, _LF):
                    return self._unread_trailing_from(start, last_line_start, pos, line_end, False)
                return self._unread_trailing_from(start, last_line_start, pos, pos, True)
            last_line_start = pos
            pos = line_end
        return self._unread_trailing_from(start, last_line_start, end, end, False)

    def _unread_trailing_from(
        self, start: int, last_line: int, header_end: int, body_start: int, missing_separator: bool
    ) -> tuple[int, int, bool]:
        # The feed parser pushes a "From " line that ends the header block
        # (and is not the first line) back into the body.
        if last_line > start and self.raw.startswith(b"From ", last_line):
            return last_line, last_line, False
        return header_end, body_start, missing_separator

    def _header_info(self, header_end_start: tuple[int, int], default_type: str) -> _HeaderInfo:
        start, header_end = header_end_start
        info = _HeaderInfo()
        try:
            message = _HEADER_PARSER.parsebytes(self.raw[start:header_end])
        except Exception as exc:  # pragma: no cover - defensive, stdlib bug
            info.defects.append(Defect("unparsable-header", type(exc).__name__, str(exc)))
            info.content_type = default_type
            return info
        message.set_default_type(default_type)
        info.defects.extend(Defect.from_stdlib(d) for d in message.defects)
        info.content_type = _safe(message.get_content_type, default_type)
        content_type_header = _safe(lambda: message["content-type"], None)
        if content_type_header is not None:
            info.parameters = _safe(lambda: _clean_params(content_type_header.params.items()), ())
            info.defects.extend(Defect.from_stdlib(d) for d in getattr(content_type_header, "defects", ()))
        info.boundary = _safe(message.get_boundary, None)
        disposition_header = _safe(lambda: message["content-disposition"], None)
        if disposition_header is not None:
            info.disposition = _safe(message.get_content_disposition, None)
            info.disposition_parameters = _safe(
                lambda: _clean_params(disposition_header.params.items()), ()
            )
        info.filename = _clean(_safe(message.get_filename, None))
        cte = _safe(lambda: message["content-transfer-encoding"], None)
        info.transfer_encoding = (_clean(str(cte)).strip().lower() or "7bit") if cte is not None else "7bit"
        info.content_id = _header_text(message, "content-id")
        info.description = _header_text(message, "content-description")
        info.language = _header_text(message, "content-language")
        info.md5 = _header_text(message, "content-md5")
        info.location = _header_text(message, "content-location")
        return info

    # -- entities --------------------------------------------------------------
    def entity(
        self, start: int, end: int, *, depth: int, default_type: str, is_message: bool, number: str
    ) -> MimeNode:
        header_end, body_start, missing_separator = self._scan_header(start, end)
        info = self._header_info((start, header_end), default_type)
        defects = list(info.defects)
        if missing_separator and header_end < end:
            defects.append(_defect(email_errors.MissingHeaderBodySeparatorDefect()))
        content_type = info.content_type
        maintype = content_type.partition("/")[0]

        children: list[MimeNode] = []
        preamble = epilogue = None
        too_deep = depth >= MAX_DEPTH
        if too_deep and maintype in ("multipart", "message"):
            defects.append(Defect("nesting-too-deep", "NestingTooDeepDefect", f"deeper than {MAX_DEPTH}"))
        elif content_type == "message/delivery-status":
            pass
        elif maintype == "message":
            inner_prefix = number if not is_message else _join(number, "1")
            children.append(
                self.entity(
                    body_start, end, depth=depth + 1, default_type="text/plain",
                    is_message=True, number=inner_prefix,
                )
            )
        elif maintype == "multipart":
            if info.boundary is None:
                defects.append(_defect(email_errors.NoBoundaryInMultipartDefect()))
            else:
                if info.transfer_encoding not in ("7bit", "8bit", "binary"):
                    defects.append(_defect(email_errors.InvalidMultipartContentTransferEncodingDefect()))
                child_default = "message/rfc822" if content_type == "multipart/digest" else "text/plain"
                ranges, preamble, epilogue, problem = self._split_multipart(info.boundary, body_start, end)
                if problem is not None:
                    defects.append(_defect(problem))
                # A message whose body is multipart numbers its parts right
                # under its own prefix; a multipart *part* under its number.
                for index, (part_start, part_end) in enumerate(ranges, 1):
                    children.append(
                        self.entity(
                            part_start, part_end, depth=depth + 1, default_type=child_default,
                            is_message=False, number=_join(number, str(index)),
                        )
                    )
        if depth == 0 and maintype == "multipart" and not children:
            defects.append(_defect(email_errors.MultipartInvariantViolationDefect()))

        if is_message:
            part_number = None if (maintype == "multipart" and children) else _join(number, "1")
            header_section = _join(number, "HEADER")
            text_section: str | None = _join(number, "TEXT")
        else:
            part_number = number
            header_section = _join(number, "MIME")
            text_section = None
        return MimeNode(
            source=self.raw,
            header_start=start,
            header_end=header_end,
            body_start=body_start,
            end=end,
            depth=depth,
            is_message=is_message,
            content_type=content_type,
            parameters=info.parameters,
            charset=dict(info.parameters).get("charset"),
            boundary=info.boundary,
            disposition=info.disposition,
            disposition_parameters=info.disposition_parameters,
            filename=info.filename,
            transfer_encoding=info.transfer_encoding,
            content_id=info.content_id,
            description=info.description,
            language=info.language,
            md5=info.md5,
            location=info.location,
            part_number=part_number,
            header_section=header_section,
            text_section=text_section,
            children=tuple(children),
            defects=tuple(defects),
            preamble=preamble,
            epilogue=epilogue,
        )

    # -- multipart splitting ---------------------------------------------------
    def _delimiter_lines(self, delimiter: bytes, start: int, end: int) -> list[tuple[int, int, bool]]:
        """Every line in [start, end) that the stdlib's boundary regex
        ``--B(--)?[ \\t]*(\\r\\n|\\r|\\n)?$`` matches: (line start, line end, is close)."""
        raw = self.raw
        found: list[tuple[int, int, bool]] = []
        pos = start
        while True:
            index = raw.find(delimiter, pos, end)
            if index < 0:
                return found
            pos = index + 1
            if index != start and raw[index - 1] not in (_CR, _LF):
                continue
            cursor = index + len(delimiter)
            is_close = raw.startswith(b"--", cursor, end)
            if is_close:
                cursor += 2
            while cursor < end and raw[cursor] in (_SP, _TAB):
                cursor += 1
            if cursor == end:
                line_end = end
            elif raw[cursor] == _LF:
                line_end = cursor + 1
            elif raw[cursor] == _CR:
                line_end = cursor + 2 if cursor + 1 < end and raw[cursor + 1] == _LF else cursor + 1
            else:
                continue
            found.append((index, line_end, is_close))
            pos = line_end

    def _before_line_end(self, position: int, floor: int) -> int:
        """``position`` minus the line ending just before it: RFC 2046 gives
        that newline to the boundary that follows, not to the part."""
        raw = self.raw
        if position - 2 >= floor and raw[position - 2 : position] == b"\r\n":
            return position - 2
        if position - 1 >= floor and raw[position - 1] in (_CR, _LF):
            return position - 1
        return position

    def _split_multipart(self, boundary: str, start: int, end: int):
        try:
            delimiter = b"--" + boundary.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:  # a decoded non-ASCII boundary can never match
            return [], None, None, email_errors.StartBoundaryNotFoundDefect()
        lines = self._delimiter_lines(delimiter, start, end)
        if not lines or lines[0][2]:
            return [], None, None, email_errors.StartBoundaryNotFoundDefect()
        preamble = (start, self._before_line_end(lines[0][0], start)) if lines[0][0] > start else None
        ranges: list[tuple[int, int]] = []
        index = 0
        while True:
            # Adjacent delimiter lines collapse into one (feedparser does so).
            part_start = lines[index][1]
            index += 1
            while index < len(lines) and lines[index][0] == part_start:
                part_start = lines[index][1]
                index += 1
            if index >= len(lines):
                ranges.append((part_start, end))
                return ranges, preamble, None, email_errors.CloseBoundaryNotFoundDefect()
            next_start, next_end, next_is_close = lines[index]
            ranges.append((part_start, max(part_start, self._before_line_end(next_start, part_start))))
            if next_is_close:
                return ranges, preamble, (next_end, end), None


def _defect(defect: Exception) -> Defect:
    return Defect.from_stdlib(defect)


def _safe(function, fallback):
    try:
        return function()
    except Exception:
        return fallback


@overload
def _clean(value: str) -> str: ...
@overload
def _clean(value: None) -> None: ...
def _clean(value: str | None) -> str | None:
    """Make a stdlib string printable: raw 8-bit header bytes arrive as
    surrogate escapes; read them as UTF-8 (RFC 6532), else replace."""
    if value is None:
        return None
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def _clean_params(items) -> tuple[tuple[str, str], ...]:
    return tuple((_clean(str(name)), _clean(str(value))) for name, value in items)


def _header_text(message: EmailMessage, name: str) -> str | None:
    value = _safe(lambda: message[name], None)
    if value is None:
        return None
    return _clean(_safe(lambda: str(value), None))


# ---------------------------------------------------------------------------
# Raw header fields


def split_header_fields(header_block: bytes) -> list[bytes]:
    """Split a raw header block into fields, folding lines kept with their
    field (a leading "From " envelope line and stray continuation lines are
    dropped, as the stdlib does)."""
    fields: list[bytes] = []
    for line in header_block.splitlines(keepends=True):
        if not line.strip(b"\r\n"):
            continue
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1] += line
            continue
        if b":" not in line or line.startswith((b":", b"From ")):
            continue  # envelope "From " line, nameless field: the stdlib drops them
        fields.append(line)
    return fields


def unfold(value: bytes) -> bytes:
    """A field value unfolded (CR/LF removed) and stripped of outer blanks."""
    return value.replace(b"\r", b"").replace(b"\n", b"").strip(b" \t")


def _decoded_fields(header_block: bytes) -> Iterator[HeaderField]:
    try:
        message = _HEADER_PARSER.parsebytes(header_block)
        items = list(message.raw_items())
    except Exception:
        items = []
    raw_fields = split_header_fields(header_block)
    for index, (name, _value) in enumerate(items):  # noqa: B007
        raw_field = raw_fields[index] if index < len(raw_fields) else b""
        try:
            decoded = str(message.policy.header_fetch_parse(name, _value))
        except Exception:
            decoded = _value
        yield HeaderField(name=_clean(name) or "", value=_clean(decoded) or "", raw=raw_field)
