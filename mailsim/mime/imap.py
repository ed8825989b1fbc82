"""IMAP views of the MIME model: ENVELOPE, BODY/BODYSTRUCTURE, BODY[section].

RFC 3501 §7.4.2 decides the shape; where the RFC leaves a choice open, the
output follows Dovecot's (``lib-imap/imap-bodystructure.c``,
``imap-envelope.c``, ``imap-quote.c``), the server students are most likely
to compare against:

* type, subtype, parameter names and values keep the case they were sent
  with; a missing Content-Type is ``"text" "plain"``, text parts without a
  charset get ``("charset" "us-ascii")`` appended;
* RFC 2231 continuations are merged into one ``name*`` parameter whose value
  stays percent-encoded (``"filename*" "utf-8''%E2%82%AC.txt"``), after the
  plain parameters;
* header values are unfolded and sent as they are, RFC 2047 words still
  encoded; a string is quoted unless it has CR, LF, 8-bit bytes or more
  than four characters to escape, then it becomes a literal;
* Content-Language is always a parenthesised list; a multipart that
  announces a boundary but has no parts gets one empty text/plain part.

Sizes and line counts are those of the raw bytes given: IMAP sends CRLF, so
build the model from CRLF text (see ``to_crlf``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailsim.mime.model import MimeModel, MimeNode, split_header_fields, unfold

__all__ = [
    "Section",
    "SectionSyntaxError",
    "bodystructure",
    "envelope",
    "imap_literal",
    "imap_nstring",
    "imap_string",
    "parse_section",
    "partial",
    "section_bytes",
    "to_crlf",
]

NIL = b"NIL"
_DEFAULT_CHARSET_PARAM = b'"charset" "us-ascii"'
_VIRTUAL_PART = b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d %d'


# ---------------------------------------------------------------------------
# Strings


def imap_literal(value: bytes) -> bytes:
    """``{n}CRLF`` followed by the octets."""
    return b"{%d}\r\n" % len(value) + value


def imap_string(value: bytes | str) -> bytes:
    """An IMAP string: quoted when RFC 3501 allows it, a literal otherwise.

    Quoted strings cannot hold CR, LF or NUL and (without UTF8=ACCEPT)
    8-bit bytes; like Dovecot, more than four backslash escapes also switch
    to a literal, which reads better than a wall of backslashes.
    """
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    data = data.replace(b"\x00", b"")
    needs_literal = any(byte in (0x0D, 0x0A) or byte >= 0x80 for byte in data)
    escapes = data.count(b'"') + data.count(b"\\")
    if needs_literal or escapes > 4:
        return imap_literal(data)
    return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def imap_nstring(value: bytes | str | None) -> bytes:
    """NIL for None, else ``imap_string``."""
    return NIL if value is None else imap_string(value)


def _header_nstring(value: bytes | None) -> bytes:
    """A header value as an nstring: CR and LF dropped (unfolded)."""
    return NIL if value is None else imap_string(unfold(value))


def to_crlf(raw: bytes) -> bytes:
    """Every line ending (LF, CR or CRLF) as CRLF: the form IMAP sizes count."""
    return re.sub(rb"\r\n|\r|\n", b"\r\n", raw)


# ---------------------------------------------------------------------------
# Structured header values (RFC 2045 tokens, RFC 2231 parameters)

_TSPECIALS = set(b'()<>@,;:\\"/[]?= \t\r\n')


class _Cursor:
    """A minimal RFC 822 lexer over one unfolded header value."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.last_comment = ""

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def skip_blanks_and_comments(self) -> str:
        """Skip white space and (nested) comments; return the last comment."""
        comment = ""
        while not self.at_end():
            byte = self.data[self.pos]
            if byte in b" \t\r\n":
                self.pos += 1
            elif byte == 0x28:  # "("
                comment = self.last_comment = self._comment()
            else:
                break
        return comment

    def _comment(self) -> str:
        depth, start = 0, self.pos
        out = bytearray()
        while not self.at_end():
            byte = self.data[self.pos]
            self.pos += 1
            if byte == 0x5C and not self.at_end():  # quoted pair
                out.append(self.data[self.pos])
                self.pos += 1
                continue
            if byte == 0x28:
                depth += 1
                if depth == 1:
                    continue
            elif byte == 0x29:
                depth -= 1
                if depth == 0:
                    break
            out.append(byte)
        del start
        return out.decode("utf-8", "surrogateescape").strip()

    def token(self) -> bytes:
        start = self.pos
        while not self.at_end() and self.data[self.pos] not in _TSPECIALS and self.data[self.pos] >= 0x20:
            self.pos += 1
        return self.data[start : self.pos]

    def quoted_string(self) -> bytes:
        """Content of a quoted string, escapes removed (cursor on the quote)."""
        self.pos += 1
        out = bytearray()
        while not self.at_end():
            byte = self.data[self.pos]
            self.pos += 1
            if byte == 0x22:
                break
            if byte == 0x5C and not self.at_end():
                byte = self.data[self.pos]
                self.pos += 1
            out.append(byte)
        return bytes(out)


def _parse_parameters(cursor: _Cursor) -> list[tuple[bytes, bytes]]:
    """``;name=value`` pairs in message order; junk is skipped, as Dovecot does."""
    params: list[tuple[bytes, bytes]] = []
    while True:
        cursor.skip_blanks_and_comments()
        if cursor.at_end():
            return params
        if cursor.peek() != 0x3B:  # ";" expected: skip to the next one
            next_semicolon = cursor.data.find(b";", cursor.pos)
            if next_semicolon < 0:
                return params
            cursor.pos = next_semicolon
        cursor.pos += 1
        cursor.skip_blanks_and_comments()
        name = cursor.token()
        cursor.skip_blanks_and_comments()
        if not name or cursor.peek() != 0x3D:  # "="
            continue
        cursor.pos += 1
        cursor.skip_blanks_and_comments()
        if cursor.peek() == 0x22:
            value = cursor.quoted_string()
        elif cursor.peek() == 0x3D:  # broken input: name==?utf-8?b?...?=
            start = cursor.pos
            while not cursor.at_end() and cursor.data[cursor.pos] not in b"; \t":
                cursor.pos += 1
            value = cursor.data[start : cursor.pos]
        else:
            value = cursor.token()
        params.append((name, value))


_CONTINUATION = re.compile(rb"^(?P<name>[^*]+)\*(?:(?P<index>[0-9]+)\*?|)$")


def _merge_rfc2231(params: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Merge ``name*0*``/``name*1`` pieces into one ``name*`` (value still
    encoded) or ``name`` parameter, after the plain ones, by name."""
    plain: list[tuple[bytes, bytes]] = []
    pieces: dict[bytes, list[tuple[int, bool, bytes]]] = {}
    for name, value in params:
        match = _CONTINUATION.match(name)
        if match is None:
            plain.append((name, value))
            continue
        index = int(match["index"]) if match["index"] is not None else 0
        extended = name.endswith(b"*")
        pieces.setdefault(match["name"], []).append((index, extended, value))
    merged: list[tuple[bytes, bytes]] = []
    for base in sorted(pieces):
        parts = sorted(pieces[base], key=lambda piece: piece[0])
        if [index for index, _, _ in parts] != list(range(len(parts))):
            merged.extend(
                (base + b"*%d" % index + (b"*" if extended else b""), value) for index, extended, value in parts
            )
            continue
        any_extended = any(extended for _, extended, _ in parts)
        value = b"" if parts[0][1] or not any_extended else b"''"
        for _, extended, piece in parts:
            value += piece.replace(b"%", b"%25") if (any_extended and not extended) else piece
        merged.append((base + b"*" if any_extended else base, value))
    return plain + merged


@dataclass(frozen=True)
class _MediaHeader:
    """A Content-Type or Content-Disposition value, as written."""

    value: bytes | None  # "text/plain" or "attachment"; None if unparsable
    params: tuple[tuple[bytes, bytes], ...]


def _media_header(raw_value: bytes | None, with_subtype: bool) -> _MediaHeader | None:
    if raw_value is None:
        return None
    cursor = _Cursor(raw_value)
    cursor.skip_blanks_and_comments()
    value: bytes | None = cursor.token()
    if with_subtype:
        cursor.skip_blanks_and_comments()
        if value and cursor.peek() == 0x2F:
            cursor.pos += 1
            cursor.skip_blanks_and_comments()
            subtype = cursor.token()
            value = value + b"/" + subtype if subtype else None
        else:
            value = None
    if not value:
        value = None
    return _MediaHeader(value, tuple(_merge_rfc2231(_parse_parameters(cursor))))


def _params_list(params: tuple[tuple[bytes, bytes], ...], default_charset: bool) -> bytes:
    items = [imap_string(name) + b" " + imap_string(value) for name, value in params]
    if default_charset and not any(name.lower() == b"charset" for name, _ in params):
        items.append(_DEFAULT_CHARSET_PARAM)
    return b"(" + b" ".join(items) + b")" if items else NIL


def _type_tokens(node: MimeNode) -> tuple[bytes, bytes, tuple[tuple[bytes, bytes], ...]]:
    """Type and subtype as sent (if the stdlib read them the same way), and
    the parameters as sent."""
    header = _media_header(node.raw_header("content-type"), with_subtype=True)
    params = header.params if header else ()
    effective = node.content_type.encode("ascii", "replace")
    if header and header.value and header.value.lower() == effective:
        main, _, sub = header.value.partition(b"/")
    else:
        main, _, sub = effective.partition(b"/")
    return main, sub, params


def _disposition(node: MimeNode) -> bytes:
    header = _media_header(node.raw_header("content-disposition"), with_subtype=False)
    if header is None or header.value is None:
        return NIL
    return b"(" + imap_string(header.value) + b" " + _params_list(header.params, False) + b")"


def _language(node: MimeNode) -> bytes:
    raw = node.raw_header("content-language")
    if raw is None:
        return NIL
    tags = [tag.strip() for tag in re.sub(rb"\([^)]*\)", b"", raw).split(b",")]
    tags = [tag for tag in tags if tag]
    return b"(" + b" ".join(imap_string(tag) for tag in tags) + b")" if tags else NIL


def _transfer_encoding(node: MimeNode) -> bytes:
    raw = node.raw_header("content-transfer-encoding")
    token = _Cursor(raw).token() if raw is not None else b""
    return imap_string(token or b"7bit")


# ---------------------------------------------------------------------------
# BODY / BODYSTRUCTURE


def bodystructure(model: MimeModel | MimeNode, extended: bool = True) -> bytes:
    """The parenthesised BODYSTRUCTURE (``extended``) or BODY of a message,
    without the leading ``BODYSTRUCTURE`` keyword."""
    root = model.root if isinstance(model, MimeModel) else model
    return b"(" + _body(root, extended) + b")"


def _body(node: MimeNode, extended: bool) -> bytes:
    if node.maintype == "multipart":
        return _body_multipart(node, extended)
    return _body_single(node, extended)


def _body_multipart(node: MimeNode, extended: bool) -> bytes:
    if node.children:
        parts = b"".join(b"(" + _body(child, extended) + b")" for child in node.children)
    else:
        # No parts were found (no boundary, or no opening delimiter): the whole body
        # is one headerless part, so text/plain by default (RFC 2046 §5.1). BODY[n]
        # and BODY[n.MIME] return exactly that part (see `_resolve`).
        parts = _VIRTUAL_PART % (node.size, node.lines) + (b" NIL NIL NIL NIL)" if extended else b")")
    _, subtype, params = _type_tokens(node)
    out = parts + b" " + imap_string(subtype)
    if extended:
        out += b" " + b" ".join(
            [_params_list(params, False), _disposition(node), _language(node), _location(node)]
        )
    return out


def _location(node: MimeNode) -> bytes:
    return _header_nstring(node.raw_header("content-location"))


def _body_single(node: MimeNode, extended: bool) -> bytes:
    main, sub, params = _type_tokens(node)
    is_text = node.maintype == "text"
    fields = [
        imap_string(main),
        imap_string(sub),
        _params_list(params, default_charset=is_text),
        _header_nstring(node.raw_header("content-id")),
        _header_nstring(node.raw_header("content-description")),
        _transfer_encoding(node),
        b"%d" % node.size,
    ]
    inner = node.encapsulated
    if node.content_type == "message/rfc822" and inner is not None:
        fields += [envelope(inner), b"(" + _body(inner, extended) + b")", b"%d" % node.lines]
    elif is_text:
        fields.append(b"%d" % node.lines)
    if extended:
        fields += [
            _header_nstring(node.raw_header("content-md5")),
            _disposition(node),
            _language(node),
            _location(node),
        ]
    return b" ".join(fields)


# ---------------------------------------------------------------------------
# ENVELOPE


def envelope(model: MimeModel | MimeNode) -> bytes:
    """The parenthesised ENVELOPE of a message (root model or encapsulated
    message node)."""
    message = model.root if isinstance(model, MimeModel) else model
    header = message.raw_header
    sender_from = _address_list(header("from"))
    sender = _address_list(header("sender")) or sender_from
    reply_to = _address_list(header("reply-to")) or sender_from
    fields = [
        _header_nstring(header("date")),
        _header_nstring(header("subject")),
        _addresses(sender_from),
        _addresses(sender),
        _addresses(reply_to),
        _addresses(_address_list(header("to"))),
        _addresses(_address_list(header("cc"))),
        _addresses(_address_list(header("bcc"))),
        _header_nstring(header("in-reply-to")),
        _header_nstring(header("message-id")),
    ]
    return b"(" + b" ".join(fields) + b")"


_Address = tuple[bytes | None, bytes | None, bytes | None, bytes | None]


def _addresses(addresses: list[_Address]) -> bytes:
    if not addresses:
        return NIL
    return b"(" + b"".join(b"(" + b" ".join(imap_nstring(item) for item in address) + b")" for address in addresses) + b")"


def _address_list(raw: bytes | None) -> list[_Address]:
    """RFC 5322 address-list as IMAP address structures; groups become a
    start marker ``(NIL NIL name NIL)`` and an end marker of four NILs."""
    if raw is None:
        return []
    return _AddressParser(raw).parse()


class _AddressParser:
    """Lenient address-list parser; keeps encoded words as sent."""

    def __init__(self, raw: bytes) -> None:
        self.cursor = _Cursor(raw)

    def parse(self) -> list[_Address]:
        out: list[_Address] = []
        cursor = self.cursor
        while True:
            cursor.skip_blanks_and_comments()
            if cursor.at_end():
                return out
            if cursor.peek() in (0x2C, 0x3B):  # stray "," or ";"
                cursor.pos += 1
                continue
            start = cursor.pos
            self._address_or_group(out, in_group=False)
            if cursor.pos == start:  # no progress: drop one byte
                cursor.pos += 1

    def _phrase(self) -> tuple[list[bytes], str]:
        """Words (atoms, dots, quoted strings) up to a special character."""
        words: list[bytes] = []
        comment = ""
        cursor = self.cursor
        while True:
            last = cursor.skip_blanks_and_comments()
            comment = last or comment
            byte = cursor.peek()
            if byte is None or byte in b"<>:;,@":
                return words, comment
            if byte == 0x22:
                words.append(cursor.quoted_string())
            elif byte == 0x2E:
                words.append(b".")
                cursor.pos += 1
            else:
                atom = self._atom()
                if not atom:
                    cursor.pos += 1
                    continue
                words.append(atom)

    def _atom(self) -> bytes:
        cursor = self.cursor
        start = cursor.pos
        while not cursor.at_end() and cursor.data[cursor.pos] not in b' \t\r\n()<>@,;:\\".[]':
            cursor.pos += 1
        return cursor.data[start : cursor.pos]

    def _address_or_group(self, out: list[_Address], in_group: bool) -> None:
        cursor = self.cursor
        cursor.last_comment = ""
        words, comment = self._phrase()
        byte = cursor.peek()
        if byte == 0x3A and not in_group:  # group
            cursor.pos += 1
            out.append((None, None, _join_phrase(words), None))
            while True:
                cursor.skip_blanks_and_comments()
                if cursor.at_end():
                    break
                if cursor.peek() == 0x3B:
                    cursor.pos += 1
                    break
                if cursor.peek() == 0x2C:
                    cursor.pos += 1
                    continue
                start = cursor.pos
                self._address_or_group(out, in_group=True)
                if cursor.pos == start:
                    cursor.pos += 1
            out.append((None, None, None, None))
            return
        if byte == 0x3C:  # name-addr
            cursor.pos += 1
            route, mailbox, host, _ = self._angle_addr()
            name = _join_phrase(words) if words else (comment.encode("utf-8", "surrogateescape") or None)
            out.append((name, route, mailbox, host))
            return
        # addr-spec: the words were the local part
        local = _join_local(words)
        host = None
        if cursor.peek() == 0x40:
            cursor.pos += 1
            host = self._domain()
        cursor.skip_blanks_and_comments()
        name = cursor.last_comment.encode("utf-8", "surrogateescape") or None
        out.append(_filled(name, None, local, host))
        if cursor.peek() == 0x3C:  # "a b c <x>" already handled; stray "<"
            cursor.pos += 1

    def _angle_addr(self) -> tuple[bytes | None, bytes | None, bytes | None, None]:
        cursor = self.cursor
        cursor.skip_blanks_and_comments()
        route = None
        if cursor.peek() == 0x40:  # obs-route "@a,@b:"
            end = cursor.data.find(b":", cursor.pos)
            close = cursor.data.find(b">", cursor.pos)
            if end >= 0 and (close < 0 or end < close):
                route = cursor.data[cursor.pos : end].replace(b" ", b"")
                cursor.pos = end + 1
        words, _ = self._phrase()
        local = _join_local(words)
        host = None
        if cursor.peek() == 0x40:
            cursor.pos += 1
            host = self._domain()
        cursor.skip_blanks_and_comments()
        close = cursor.data.find(b">", cursor.pos)
        cursor.pos = close + 1 if close >= 0 else len(cursor.data)
        _, _, mailbox, host = _filled(None, None, local, host)
        return route, mailbox, host, None

    def _domain(self) -> bytes | None:
        cursor = self.cursor
        cursor.skip_blanks_and_comments()
        if cursor.peek() == 0x5B:  # domain literal
            end = cursor.data.find(b"]", cursor.pos)
            end = len(cursor.data) if end < 0 else end + 1
            literal = cursor.data[cursor.pos : end]
            cursor.pos = end
            return literal
        parts = []
        while True:
            cursor.skip_blanks_and_comments()
            atom = self._atom()
            if not atom:
                break
            parts.append(atom)
            cursor.skip_blanks_and_comments()
            if cursor.peek() != 0x2E:
                break
            cursor.pos += 1
        return b".".join(parts) or None


def _join_phrase(words: list[bytes]) -> bytes | None:
    text = b" ".join(word for word in words if word != b".") if b"." not in words else b" ".join(words).replace(b" . ", b". ")
    return text or None


def _join_local(words: list[bytes]) -> bytes | None:
    return b"".join(words) or None


def _filled(name, route, mailbox, host) -> _Address:
    """Dovecot's fill-missing rule: a host of NIL would read as group syntax."""
    return (name, route, mailbox or b"MISSING_MAILBOX", host or b"MISSING_DOMAIN")


# ---------------------------------------------------------------------------
# Sections


class SectionSyntaxError(ValueError):
    """The section text is not RFC 3501 ``section-spec`` (reply BAD)."""


_MESSAGE_TEXTS = ("HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT")


@dataclass(frozen=True)
class Section:
    """A parsed ``BODY[...]`` section: numeric part path, then what of it.

    ``text`` is None (the part's body, or the whole message when ``part`` is
    empty), ``HEADER``, ``HEADER.FIELDS``, ``HEADER.FIELDS.NOT``, ``TEXT`` or
    ``MIME``; ``fields`` holds the field names of the HEADER.FIELDS forms.
    """

    part: tuple[int, ...] = ()
    text: str | None = None
    fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if any(number < 1 for number in self.part):
            raise SectionSyntaxError("part numbers start at 1")
        if self.text not in (None, "MIME", *_MESSAGE_TEXTS):
            raise SectionSyntaxError(f"unknown section text {self.text!r}")
        if self.text == "MIME" and not self.part:
            raise SectionSyntaxError("MIME needs a part number")
        if (self.text or "").startswith("HEADER.FIELDS") != bool(self.fields):
            raise SectionSyntaxError("HEADER.FIELDS needs a non-empty field list, and only it")

    def __str__(self) -> str:
        """The canonical form servers echo in FETCH responses."""
        pieces = [".".join(str(number) for number in self.part)] if self.part else []
        if self.text:
            pieces.append(self.text)
        text = ".".join(pieces)
        if self.fields:
            text += " (" + " ".join(name.upper() for name in self.fields) + ")"
        return text


_PART_PREFIX = re.compile(r"^([1-9][0-9]*(?:\.[1-9][0-9]*)*)(?:\.(.+))?$", re.DOTALL)
_FIELDS_TEXT = re.compile(r"^(HEADER\.FIELDS(?:\.NOT)?) *\((.*)\)$", re.DOTALL | re.IGNORECASE)


def parse_section(text: str) -> Section:
    """Parse what is inside ``BODY[...]``, e.g. ``"1.2.HEADER.FIELDS (From To)"``.

    Field names may be atoms or quoted strings; literals must have been
    resolved by the caller.  Raises SectionSyntaxError.
    """
    text = text.strip()
    if not text:
        return Section()
    part: tuple[int, ...] = ()
    rest: str | None = text
    match = _PART_PREFIX.match(text)
    if match:
        part = tuple(int(number) for number in match.group(1).split("."))
        rest = match.group(2)
    elif text[0].isdigit():
        raise SectionSyntaxError(f"bad part number in {text!r}")
    if rest is None:
        return Section(part=part)
    fields_match = _FIELDS_TEXT.match(rest)
    if fields_match:
        return Section(part, fields_match.group(1).upper(), _field_names(fields_match.group(2)))
    upper = rest.upper()
    if upper in ("HEADER", "TEXT") or (upper == "MIME" and part):
        return Section(part, upper)
    raise SectionSyntaxError(f"unknown section {text!r}")


def _field_names(text: str) -> tuple[str, ...]:
    names: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == " ":
            position += 1
        elif char == '"':
            end = position + 1
            value = []
            while end < len(text) and text[end] != '"':
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                value.append(text[end])
                end += 1
            if end >= len(text):
                raise SectionSyntaxError("unterminated quoted field name")
            names.append("".join(value))
            position = end + 1
        else:
            end = position
            while end < len(text) and text[end] not in ' ()"{':
                end += 1
            if end == position:
                raise SectionSyntaxError(f"bad field name list {text!r}")
            names.append(text[position:end])
            position = end
    if not names:
        raise SectionSyntaxError("empty field name list")
    return tuple(names)


def _resolve(model: MimeModel, part: tuple[int, ...]) -> tuple[MimeNode, bool, bool] | None:
    """The node a numeric path names, whether it is addressed as a message (only
    for the empty path) rather than as a part, and whether it is the headerless
    part 1 of a multipart in which no parts were found (its body, no header)."""
    node, as_message, virtual = model.root, True, False
    for number in part:
        if virtual:
            return None  # a headerless text/plain part has no parts of its own
        message = node if as_message else node.encapsulated
        container = message if message is not None else node
        if container.maintype == "multipart" and not container.children:
            if number != 1:
                return None
            node, virtual = container, True
        elif message is not None:
            if message.is_multipart:
                if number > len(message.children):
                    return None
                node = message.children[number - 1]
            elif number == 1:
                node = message  # a non-multipart message's body is its part 1
            else:
                return None
        elif node.is_multipart and number <= len(node.children):
            node = node.children[number - 1]
        else:
            return None
        as_message = False
    return node, as_message, virtual


def section_bytes(raw: bytes, model: MimeModel, section: str | Section) -> bytes | None:
    """The octets ``BODY[section]`` returns, or None if the message has no
    such section (servers then answer NIL or an empty string).

    Raises SectionSyntaxError for a malformed section string.
    """
    if isinstance(section, str):
        section = parse_section(section)
    resolved = _resolve(model, section.part)
    if resolved is None:
        return None
    node, as_message, virtual = resolved
    if section.text is None:
        return raw[node.header_start : node.end] if as_message else raw[node.body_start : node.end]
    if section.text == "MIME":
        return b"" if virtual else raw[node.header_start : node.body_start]
    if virtual:
        return None  # HEADER, TEXT, HEADER.FIELDS: a text/plain part is no message
    message = node if as_message else node.encapsulated
    if message is None:
        return None
    if section.text == "HEADER":
        return raw[message.header_start : message.body_start]
    if section.text == "TEXT":
        return raw[message.body_start : message.end]
    wanted = {name.lower() for name in section.fields}
    keep = section.text == "HEADER.FIELDS"
    chosen = []
    for field in split_header_fields(raw[message.header_start : message.header_end]):
        name = field.partition(b":")[0].strip().decode("ascii", "replace").lower()
        if (name in wanted) == keep:
            chosen.append(field if field.endswith((b"\n", b"\r")) else field + b"\r\n")
    return b"".join(chosen) + b"\r\n"


def partial(data: bytes | None, origin: int, count: int | None = None) -> bytes:
    """``BODY[...]<origin.count>``: the octets from ``origin`` on; empty
    (not NIL) when origin is past the end, as RFC 3501 says."""
    if data is None:
        return b""
    return data[origin:] if count is None else data[origin : origin + count]
