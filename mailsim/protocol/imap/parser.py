"""The IMAP4rev1 command grammar (RFC 3501 §9), as pure functions over bytes.

A complete command arrives as one bytes value: the lines the client sent, joined by
CRLF, with each literal's octets inline right after its `{n}` / `{n+}` marker (the
session collects them; see `literal_at_end`). `parse_command()` turns it into a
`Command` whose `arguments` are typed per verb, or raises `ParseError` whose text
names exactly what was wrong — it becomes the `BAD` the client and the student read.

Nothing here touches the store or the session: table tests feed bytes, check values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from mailsim.mime.imap import Section

MAX_DEPTH = 64  # parenthesis nesting; search keys are the only deep construct

# RFC 3501 §9: atom-specials are ( ) { SP CTL % * " \ ]
_ATOM_SPECIALS = set(b'(){ %*"\\]') | set(range(0x00, 0x20)) | {0x7F}
_ATOM_CHARS = bytes(c for c in range(0x21, 0x7F) if c not in _ATOM_SPECIALS)
# Strictly 7-bit; 8-bit octets are accepted as well, as Dovecot does, because common
# clients (imaplib among them) send UTF-8 search strings as bare atoms.
_ASTRING_CHARS = _ATOM_CHARS + b"]" + bytes(range(0x80, 0x100))
_LIST_CHARS = _ATOM_CHARS + b"%*]"
_ITEM_NAME_CHARS = bytes(c for c in _ATOM_CHARS if c not in b"[<")
_TAG_CHARS = bytes(c for c in _ATOM_CHARS + b"]" if c != ord("+"))
_LITERAL_MARK = re.compile(rb"\{(\d{1,20})(\+?)\}$")

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name.upper(): index for index, name in enumerate(MONTHS, 1)}


class ParseError(ValueError):
    """A command the grammar rejects; `str()` is the BAD text (names what was wrong)."""


@dataclass(frozen=True, slots=True)
class LiteralMark:
    """A `{n}` or `{n+}` at the end of a line: `size` octets follow."""

    size: int
    synchronizing: bool


def literal_at_end(line: bytes) -> LiteralMark | None:
    """The literal a command line announces at its end, if any."""
    match = _LITERAL_MARK.search(line)
    if match is None:
        return None
    return LiteralMark(int(match.group(1)), synchronizing=not match.group(2))


# -- where a command holds a secret ----------------------------------------------------

_SECRET_HEAD = re.compile(rb"[^ ]+ +(LOGIN|AUTHENTICATE) +", re.IGNORECASE)
_LITERAL_AT = re.compile(rb"\{(\d{1,20})\+?\}\r\n")


def _astring_end(data: bytes, pos: int) -> int | None:
    """Where the astring (atom, quoted or literal) starting at `pos` ends, or None
    while it is incomplete."""
    if data[pos : pos + 1] == b'"':
        index = pos + 1
        while index < len(data):
            if data[index] == 0x5C:  # backslash: the next octet is escaped
                index += 2
                continue
            if data[index] == 0x22:
                return index + 1
            index += 1
        return None
    literal = _LITERAL_AT.match(data, pos)
    if literal is not None:
        end = literal.end() + int(literal.group(1))
        return end if end <= len(data) else None
    if data[pos : pos + 1] == b"{":
        return None
    space = data.find(b" ", pos)
    return len(data) if space < 0 else space


def may_hold_secret(command_start: bytes | bytearray) -> bool:
    """Whether a command beginning so is a LOGIN or an AUTHENTICATE (cheap: the
    rest of the command, maybe a long literal, need not be looked at)."""
    return _SECRET_HEAD.match(command_start) is not None


def secret_span(command: bytes, initial_form: Callable[[str], str]) -> tuple[int, int, str] | None:
    """Where `command` (wire form so far, literals included) holds a secret: the
    password of LOGIN, the initial response of AUTHENTICATE (whose form
    `initial_form(mechanism)` tells; "" for none). Only the secret's octets: the
    quotes and a literal's `{n}` stay visible."""
    head = _SECRET_HEAD.match(command)
    if head is None:
        return None
    first_end = _astring_end(command, head.end())
    if first_end is None or command[first_end : first_end + 1] != b" ":
        return None
    if head.group(1).upper() == b"LOGIN":
        form = "text"
    else:
        form = initial_form(command[head.end() : first_end].decode("ascii", "replace"))
        if not form:
            return None
    start = first_end + 1
    while command[start : start + 1] == b" ":
        start += 1
    if start >= len(command):
        return None
    literal = _LITERAL_AT.match(command, start)
    if literal is not None:
        return literal.end(), min(literal.end() + int(literal.group(1)), len(command)), form
    if command[start : start + 1] == b"{":
        return None  # the literal's mark, not the secret
    end = _astring_end(command, start)
    if command[start : start + 1] == b'"':  # "quoted": the octets still carry \\ escapes
        return start + 1, (end - 1 if end is not None else len(command)), "quoted" if form == "text" else form
    return start, (end if end is not None else len(command)), form


# -- values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """`1:4,7,9:*` as ranges; `None` stands for `*` (the largest number in use)."""

    ranges: tuple[tuple[int | None, int | None], ...]

    def resolve(self, largest: int) -> list[int]:
        """The numbers named, ascending, without repeats, given the value of `*`."""
        numbers: set[int] = set()
        for start, end in self.ranges:
            low = largest if start is None else start
            high = largest if end is None else end
            if low > high:
                low, high = high, low
            numbers.update(range(low, high + 1))
        return sorted(numbers)

    def contains(self, number: int, largest: int) -> bool:
        for start, end in self.ranges:
            low = largest if start is None else start
            high = largest if end is None else end
            if low > high:
                low, high = high, low
            if low <= number <= high:
                return True
        return False

    def __str__(self) -> str:
        def one(n: int | None) -> str:
            return "*" if n is None else str(n)

        return ",".join(one(s) if s == e else f"{one(s)}:{one(e)}" for s, e in self.ranges)


@dataclass(frozen=True, slots=True)
class FetchItem:
    """One FETCH data item. `name` is the item as the client wrote it, upper-cased
    (`FLAGS`, `BODY`, `BODY.PEEK`, `BINARY`...); `section` and `partial` belong
    to BODY[...] forms; `partial` is (origin, octets)."""

    name: str
    section: Section | None = None
    partial: tuple[int, int] | None = None

    @property
    def peek(self) -> bool:
        return self.name.endswith(".PEEK")

    def response_label(self) -> str:
        """How the item is named in the FETCH response (PEEK dropped, origin kept)."""
        if self.section is None:
            return self.name
        base = self.name.removesuffix(".PEEK")
        label = f"{base}[{self.section}]"
        if self.partial is not None:
            label += f"<{self.partial[0]}>"
        return label


FETCH_MACROS = {
    "ALL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"),
    "FAST": ("FLAGS", "INTERNALDATE", "RFC822.SIZE"),
    "FULL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"),
}
FETCH_SIMPLE = (
    "ENVELOPE", "FLAGS", "INTERNALDATE", "RFC822", "RFC822.HEADER", "RFC822.SIZE",
    "RFC822.TEXT", "BODY", "BODYSTRUCTURE", "UID",
)


# -- search keys ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchKey:
    """One search criterion (RFC 3501 §6.4.4) as a small tree.

    `kind` is the key's name (`FROM`, `SINCE`, `OR`, `NOT`, `AND` for a parenthesized
    list, `SEQUENCE` for a bare sequence set); `value` its argument (string, date,
    number, SequenceSet, (field, value) for HEADER); `children` the sub-keys of
    AND / OR / NOT.
    """

    kind: str
    value: Any = None
    children: tuple["SearchKey", ...] = ()


SEARCH_FLAG_KEYS = {
    "ANSWERED": ("\\Answered", True), "UNANSWERED": ("\\Answered", False),
    "DELETED": ("\\Deleted", True), "UNDELETED": ("\\Deleted", False),
    "DRAFT": ("\\Draft", True), "UNDRAFT": ("\\Draft", False),
    "FLAGGED": ("\\Flagged", True), "UNFLAGGED": ("\\Flagged", False),
    "SEEN": ("\\Seen", True), "UNSEEN": ("\\Seen", False),
}
SEARCH_NO_ARGUMENT = ("ALL", "NEW", "OLD", "RECENT", *SEARCH_FLAG_KEYS)
SEARCH_STRING = ("BCC", "BODY", "CC", "FROM", "SUBJECT", "TEXT", "TO")
SEARCH_DATE = ("BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE")
SEARCH_NUMBER = ("LARGER", "SMALLER")
SEARCH_ATOM = ("KEYWORD", "UNKEYWORD")


# -- the command and its arguments ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    tag: str
    verb: str                  # upper-cased; "UID" commands carry the inner verb here
    uid: bool = False          # UID FETCH / STORE / SEARCH / COPY / MOVE / EXPUNGE
    arguments: Any = None


@dataclass(frozen=True, slots=True)
class LoginArgs:
    user: str
    password: str


@dataclass(frozen=True, slots=True)
class AuthenticateArgs:
    mechanism: str
    initial: str | None


@dataclass(frozen=True, slots=True)
class MailboxArgs:
    mailbox: str


@dataclass(frozen=True, slots=True)
class QuotaRootArgs:
    """GETQUOTA's quota root (RFC 9208 §4.2)."""

    root: str


@dataclass(frozen=True, slots=True)
class SetQuotaArgs:
    root: str
    limits: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class RenameArgs:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ListArgs:
    reference: str
    pattern: str


@dataclass(frozen=True, slots=True)
class StatusArgs:
    mailbox: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppendArgs:
    mailbox: str
    flags: tuple[str, ...]
    date: datetime | None
    message: bytes


@dataclass(frozen=True, slots=True)
class SearchArgs:
    charset: str | None
    key: SearchKey


@dataclass(frozen=True, slots=True)
class FetchArgs:
    sequence: SequenceSet
    items: tuple[FetchItem, ...]
    macro: str = ""  # ALL / FAST / FULL if the client used one


@dataclass(frozen=True, slots=True)
class StoreArgs:
    sequence: SequenceSet
    mode: str          # "" (replace), "+" or "-"
    silent: bool
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CopyArgs:
    sequence: SequenceSet
    mailbox: str


@dataclass(frozen=True, slots=True)
class SequenceArgs:
    sequence: SequenceSet


@dataclass(frozen=True, slots=True)
class NamesArgs:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdArgs:
    fields: tuple[tuple[str, str | None], ...] | None


# -- the cursor ------------------------------------------------------------------------------


class Cursor:
    """Reads grammar pieces from a complete command, left to right."""

    def __init__(self, data: bytes, *, max_depth: int = MAX_DEPTH) -> None:
        self.data = data
        self.pos = 0
        self.max_depth = max_depth
        self.depth = 0

    # -- low level --------------------------------------------------------------------

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def expect(self, char: bytes, what: str) -> None:
        if not self.data.startswith(char, self.pos):
            raise ParseError(f"expected {what} {self._where()}")
        self.pos += len(char)

    def space(self) -> None:
        if self.peek() != 0x20:
            raise ParseError(f"expected a space {self._where()}")
        self.pos += 1

    def end(self) -> None:
        if not self.at_end():
            raise ParseError(f"unexpected {self._show()} after the last argument")

    def _show(self) -> str:
        rest = self.data[self.pos : self.pos + 20].decode("utf-8", "replace")
        rest = rest.replace("\r", "\\r").replace("\n", "\\n")
        return f'"{rest}"' if rest else "end of line"

    def _where(self) -> str:
        return f"at {self._show()}" if not self.at_end() else "at end of line"

    def _take(self, allowed: bytes) -> bytes:
        start = self.pos
        data = self.data
        length = len(data)
        while self.pos < length and data[self.pos] in allowed:
            self.pos += 1
        return data[start : self.pos]

    # -- RFC 3501 §9 productions ----------------------------------------------------------

    def atom(self, what: str = "an atom") -> str:
        word = self._take(_ATOM_CHARS)
        if not word:
            raise ParseError(f"expected {what} {self._where()}")
        return word.decode("ascii")

    def tag(self) -> str:
        word = self._take(_TAG_CHARS)
        if not word:
            raise ParseError("missing tag: every command starts with a tag such as a1")
        return word.decode("ascii")

    def number(self, what: str = "a number") -> int:
        digits = self._take(b"0123456789")
        if not digits:
            raise ParseError(f"expected {what} {self._where()}")
        value = int(digits)
        if value > 0xFFFFFFFF:
            raise ParseError(f"{what} {value} is larger than 4294967295")
        return value

    def nz_number(self, what: str = "a number") -> int:
        value = self.number(what)
        if value == 0:
            raise ParseError(f"{what} must not be 0")
        return value

    def quoted(self) -> bytes:
        self.expect(b'"', "a quoted string")
        out = bytearray()
        data = self.data
        while True:
            if self.pos >= len(data):
                raise ParseError("unterminated quoted string")
            char = data[self.pos]
            self.pos += 1
            if char == 0x22:
                return bytes(out)
            if char == 0x5C:
                if self.pos >= len(data) or data[self.pos] not in b'"\\':
                    raise ParseError('in a quoted string a backslash may only precede " or \\')
                char = data[self.pos]
                self.pos += 1
            elif char in (0x0D, 0x0A):
                raise ParseError("a quoted string cannot contain CR or LF; use a literal")
            out.append(char)

    def literal(self) -> bytes:
        self.expect(b"{", "a literal")
        size = self.number("a literal size")
        if self.peek() == ord("+"):
            self.pos += 1
        self.expect(b"}\r\n", "}CRLF after the literal size")
        if self.pos + size > len(self.data):
            raise ParseError(f"literal of {size} octets is incomplete")
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value

    def string(self, what: str = "a string") -> bytes:
        char = self.peek()
        if char == 0x22:
            return self.quoted()
        if char == 0x7B:
            return self.literal()
        raise ParseError(f"expected {what} (quoted or literal) {self._where()}")

    def astring_bytes(self, what: str = "a string") -> bytes:
        char = self.peek()
        if char in (0x22, 0x7B):
            return self.string(what)
        word = self._take(_ASTRING_CHARS)
        if not word:
            raise ParseError(f"expected {what} {self._where()}")
        return word

    def astring(self, what: str = "a string") -> str:
        return _text(self.astring_bytes(what), what)

    def nstring(self, what: str = "a string") -> str | None:
        if self.data[self.pos : self.pos + 3].upper() == b"NIL":
            self.pos += 3
            return None
        return _text(self.string(what), what)

    def mailbox(self) -> str:
        """A mailbox name, decoded from modified UTF-7 (RFC 3501 §5.1.3)."""
        from mailsim.protocol.imap.mutf7 import decode_mailbox

        raw = self.astring("a mailbox name")
        _seven_bit(raw, "mailbox name")
        try:
            return decode_mailbox(raw)
        except ValueError as exc:
            raise ParseError(f"mailbox name {raw!r}: {exc}") from None

    def list_mailbox(self) -> str:
        char = self.peek()
        if char in (0x22, 0x7B):
            raw = _text(self.string("a mailbox pattern"), "a mailbox pattern")
        else:
            word = self._take(_LIST_CHARS)
            if not word:
                raise ParseError(f"expected a mailbox pattern {self._where()}")
            raw = word.decode("ascii")
        from mailsim.protocol.imap.mutf7 import decode_mailbox

        _seven_bit(raw, "mailbox pattern")
        try:
            return decode_mailbox(raw)
        except ValueError as exc:
            raise ParseError(f"mailbox pattern {raw!r}: {exc}") from None

    def open_paren(self) -> None:
        self.expect(b"(", '"("')
        self.depth += 1
        if self.depth > self.max_depth:
            raise ParseError(f"parentheses nested deeper than {self.max_depth} levels")

    def close_paren(self) -> None:
        self.expect(b")", '")"')
        self.depth -= 1

    def flag(self) -> str:
        if self.peek() == 0x5C:
            self.pos += 1
            if self.peek() == ord("*"):
                self.pos += 1
                return "\\*"
            name = self.atom("a flag name after \\")
            canonical = SYSTEM_FLAGS.get(name.upper())
            if canonical is None:
                raise ParseError(f"\\{name} is not a system flag (keywords have no backslash)")
            return canonical
        return self.atom("a flag")

    def flag_list(self) -> tuple[str, ...]:
        self.open_paren()
        flags: list[str] = []
        while self.peek() != ord(")"):
            if flags:
                self.space()
            flags.append(self.flag())
        self.close_paren()
        return tuple(flags)

    def sequence_set(self) -> SequenceSet:
        ranges: list[tuple[int | None, int | None]] = []
        while True:
            start = self._seq_number()
            end = start
            if self.peek() == ord(":"):
                self.pos += 1
                end = self._seq_number()
            ranges.append((start, end))
            if self.peek() != ord(","):
                return SequenceSet(tuple(ranges))
            self.pos += 1

    def _seq_number(self) -> int | None:
        if self.peek() == ord("*"):
            self.pos += 1
            return None
        if self.peek() is None or not chr(self.peek()).isdigit():  # type: ignore[arg-type]
            raise ParseError(f"invalid sequence set {self._where()}: expected a number or *")
        value = self.number("a message number")
        if value == 0:
            raise ParseError("invalid sequence set: message numbers start at 1, 0 is not allowed")
        return value

    def date(self) -> date:
        """date = date-text / DQUOTE date-text DQUOTE; date-text = d[d]-Mon-yyyy."""
        quoted = self.peek() == 0x22
        if quoted:
            self.pos += 1
        match = re.compile(rb"(\d{1,2})-([A-Za-z]{3})-(\d{4})").match(self.data, self.pos)
        if match is None:
            raise ParseError(f"expected a date like 1-Feb-2026 {self._where()}")
        self.pos = match.end()
        if quoted:
            self.expect(b'"', "the closing quote of the date")
        return _make_date(match.group(1), match.group(2), match.group(3))

    def date_time(self) -> datetime:
        """date-time = DQUOTE dd-Mon-yyyy SP hh:mm:ss SP zone DQUOTE."""
        match = _DATE_TIME.match(self.data, self.pos)
        if match is None:
            raise ParseError(f'expected a date-time like "01-Feb-2026 10:00:00 +0100" {self._where()}')
        self.pos = match.end()
        day = _make_date(match.group(1).strip(), match.group(2), match.group(3))
        hour, minute, second = int(match.group(4)), int(match.group(5)), int(match.group(6))
        if hour > 23 or minute > 59 or second > 60:
            raise ParseError(f"time {match.group(4).decode()}:{match.group(5).decode()} is not valid")
        sign = 1 if match.group(7) == b"+" else -1
        zone_h, zone_m = int(match.group(8)[:2]), int(match.group(8)[2:])
        zone = timezone(sign * timedelta(hours=zone_h, minutes=zone_m))
        return datetime(day.year, day.month, day.day, hour, minute, min(second, 59), tzinfo=zone)

    # -- composite productions ----------------------------------------------------------

    def section(self) -> Section:
        """section-spec inside [ ]: part numbers, then HEADER / HEADER.FIELDS[.NOT] /
        TEXT / MIME (MIME only after a part number)."""
        self.expect(b"[", '"["')
        part: list[int] = []
        text: str | None = None
        fields: tuple[str, ...] = ()
        while self.peek() is not None and chr(self.peek()).isdigit():  # type: ignore[arg-type]
            part.append(self.nz_number("a part number"))
            if self.peek() != ord("."):
                break
            self.pos += 1
            if not (self.peek() is not None and chr(self.peek()).isdigit()):  # type: ignore[arg-type]
                break
        if self.peek() != ord("]"):
            word = self._take(_ATOM_CHARS).decode("ascii").upper()
            if word in ("HEADER.FIELDS", "HEADER.FIELDS.NOT"):
                text = word
                self.space()
                fields = self._header_list()
            elif word in ("HEADER", "TEXT") or (word == "MIME" and part):
                text = word
            elif word == "MIME":
                raise ParseError("section MIME needs a part number first, as in BODY[1.MIME]")
            else:
                raise ParseError(
                    f"unknown section {word or self._show()!s}: use a part number, HEADER, "
                    "HEADER.FIELDS (...), HEADER.FIELDS.NOT (...), TEXT or MIME"
                )
        elif self.data[self.pos - 1 : self.pos] == b"." and part:
            raise ParseError("a section cannot end with a dot")
        self.expect(b"]", '"]" closing the section')
        return Section(tuple(part), text, fields)

    def _header_list(self) -> tuple[str, ...]:
        self.open_paren()
        names: list[str] = []
        while self.peek() != ord(")"):
            if names:
                self.space()
            names.append(self.astring("a header field name").upper())
        self.close_paren()
        if not names:
            raise ParseError("HEADER.FIELDS needs at least one field name")
        return tuple(names)

    def fetch_item(self) -> FetchItem:
        # "[" and "<" are atom characters, so an item name is read without them:
        # BODY[...], BODY.PEEK[...]<0.10> continue after the name.
        name = self._take(_ITEM_NAME_CHARS).decode("ascii").upper()
        if not name:
            raise ParseError(f"expected a FETCH item {self._where()}")
        if self.peek() == ord("["):
            if name.startswith("BINARY"):
                raise ParseError(f"{name} (RFC 3516) is not supported; use BODY[...]")
            if name not in ("BODY", "BODY.PEEK"):
                raise ParseError(f"{name} takes no section; only BODY[...] and BODY.PEEK[...] do")
            section = self.section()
            partial = None
            if self.peek() == ord("<"):
                self.pos += 1
                origin = self.number("the partial origin")
                self.expect(b".", '"." between origin and length in <origin.length>')
                length = self.nz_number("the partial length")
                self.expect(b">", '">" closing <origin.length>')
                partial = (origin, length)
            return FetchItem(name, section, partial)
        if name == "BODY.PEEK":
            raise ParseError(f"{name} needs a section, as in {name}[]")
        if name not in FETCH_SIMPLE:
            raise ParseError(f"unknown FETCH item {name}")
        return FetchItem(name)

    def search_key(self) -> SearchKey:
        char = self.peek()
        if char == ord("("):
            self.open_paren()
            keys = [self.search_key()]
            while self.peek() == 0x20:
                self.pos += 1
                keys.append(self.search_key())
            self.close_paren()
            return SearchKey("AND", children=tuple(keys))
        if char is not None and (chr(char).isdigit() or char == ord("*")):
            return SearchKey("SEQUENCE", self.sequence_set())
        word = self.atom("a search key").upper()
        if word in SEARCH_NO_ARGUMENT:
            return SearchKey(word)
        if word in SEARCH_STRING:
            self.space()
            return SearchKey(word, self.astring(f"the {word} string"))
        if word in SEARCH_DATE:
            self.space()
            return SearchKey(word, self.date())
        if word in SEARCH_NUMBER:
            self.space()
            return SearchKey(word, self.number(f"the {word} size"))
        if word in SEARCH_ATOM:
            self.space()
            return SearchKey(word, self.flag())
        if word == "HEADER":
            self.space()
            name = self.astring("a header field name")
            self.space()
            return SearchKey(word, (name, self.astring("the header value")))
        if word == "UID":
            self.space()
            return SearchKey(word, self.sequence_set())
        if word == "NOT":
            self.space()
            return SearchKey(word, children=(self._nested_key(),))
        if word == "OR":
            self.space()
            first = self._nested_key()
            self.space()
            return SearchKey(word, children=(first, self._nested_key()))
        raise ParseError(f"unknown search key {word}")

    def _nested_key(self) -> SearchKey:
        # NOT NOT NOT ... nests without parentheses: count it as depth too.
        self.depth += 1
        if self.depth > self.max_depth:
            raise ParseError(f"search keys nested deeper than {self.max_depth} levels")
        key = self.search_key()
        self.depth -= 1
        return key


SYSTEM_FLAGS = {
    "SEEN": "\\Seen", "ANSWERED": "\\Answered", "FLAGGED": "\\Flagged",
    "DELETED": "\\Deleted", "DRAFT": "\\Draft", "RECENT": "\\Recent",
}
_DATE_TIME = re.compile(rb'"([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d{4})"')


def _make_date(day: bytes, month: bytes, year: bytes) -> date:
    number = _MONTH_NUMBER.get(month.decode("ascii").upper())
    if number is None:
        raise ParseError(f"unknown month {month.decode('ascii')}: use Jan, Feb, ... Dec")
    try:
        return date(int(year), number, int(day))
    except ValueError:
        raise ParseError(f"{int(day)}-{month.decode()}-{int(year)} is not a real date") from None


def _text(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what} is not valid UTF-8") from None


# -- per-verb argument grammar ----------------------------------------------------------------


def _no_arguments(c: Cursor) -> None:
    return None


def _login(c: Cursor) -> LoginArgs:
    c.space()
    user = c.astring("the user name")
    c.space()
    return LoginArgs(user, c.astring("the password"))


def _authenticate(c: Cursor) -> AuthenticateArgs:
    c.space()
    mechanism = c.atom("a SASL mechanism name").upper()
    initial = None
    if c.peek() == 0x20:  # SASL-IR (RFC 4959)
        c.pos += 1
        initial = c.atom("the initial response (base64 or =)")
    return AuthenticateArgs(mechanism, initial)


def _mailbox(c: Cursor) -> MailboxArgs:
    c.space()
    return MailboxArgs(c.mailbox())


def _select(c: Cursor) -> MailboxArgs:
    c.space()
    name = c.mailbox()
    if c.peek() == 0x20:  # select-params (RFC 4466), e.g. (CONDSTORE): none supported
        c.pos += 1
        c.open_paren()
        raise ParseError("SELECT parameters are not supported by this server")
    return MailboxArgs(name)


def _getquota(c: Cursor) -> QuotaRootArgs:
    c.space()
    return QuotaRootArgs(c.astring("a quota root"))


def _setquota(c: Cursor) -> SetQuotaArgs:
    c.space()
    root = c.astring("a quota root")
    c.space()
    c.open_paren()
    limits: list[tuple[str, int]] = []
    while c.peek() != ord(")"):
        if limits:
            c.space()
        resource = c.atom("a resource name").upper()
        c.space()
        limits.append((resource, c.number("a limit")))
    c.close_paren()
    return SetQuotaArgs(root, tuple(limits))


def _rename(c: Cursor) -> RenameArgs:
    c.space()
    old = c.mailbox()
    c.space()
    return RenameArgs(old, c.mailbox())


def _list(c: Cursor) -> ListArgs:
    c.space()
    if c.peek() == ord("("):
        raise ParseError("LIST selection options (RFC 5258) are not supported")
    reference = c.mailbox()
    c.space()
    return ListArgs(reference, c.list_mailbox())


STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN")


def _status(c: Cursor) -> StatusArgs:
    c.space()
    name = c.mailbox()
    c.space()
    c.open_paren()
    items: list[str] = []
    while c.peek() != ord(")"):
        if items:
            c.space()
        item = c.atom("a STATUS item").upper()
        if item not in STATUS_ITEMS:
            raise ParseError(f"unknown STATUS item {item}: use {' '.join(STATUS_ITEMS)}")
        items.append(item)
    c.close_paren()
    if not items:
        raise ParseError("STATUS needs at least one item, e.g. (MESSAGES UNSEEN)")
    return StatusArgs(name, tuple(items))


def _append(c: Cursor) -> AppendArgs:
    c.space()
    name = c.mailbox()
    c.space()
    flags: tuple[str, ...] = ()
    when = None
    if c.peek() == ord("("):
        flags = c.flag_list()
        c.space()
    if c.peek() == 0x22:
        when = c.date_time()
        c.space()
    if c.peek() != ord("{"):
        raise ParseError(f"APPEND needs the message as a literal {{size}} {c._where()}")
    message = c.literal()
    return AppendArgs(name, flags, when, message)


def _search(c: Cursor) -> SearchArgs:
    c.space()
    charset = None
    if c.data[c.pos : c.pos + 8].upper() == b"CHARSET ":
        c.pos += 8
        charset = c.astring("a charset name").upper()
        c.space()
    keys = [c.search_key()]
    while c.peek() == 0x20:
        c.pos += 1
        keys.append(c.search_key())
    key = keys[0] if len(keys) == 1 else SearchKey("AND", children=tuple(keys))
    return SearchArgs(charset, key)


def _fetch(c: Cursor) -> FetchArgs:
    c.space()
    sequence = c.sequence_set()
    c.space()
    if c.peek() == ord("("):
        c.open_paren()
        items = [c.fetch_item()]
        while c.peek() == 0x20:
            c.pos += 1
            items.append(c.fetch_item())
        c.close_paren()
        return FetchArgs(sequence, tuple(items))
    start = c.pos
    word = c._take(_ATOM_CHARS).decode("ascii").upper()
    if word in FETCH_MACROS:
        return FetchArgs(sequence, tuple(FetchItem(n) for n in FETCH_MACROS[word]), macro=word)
    c.pos = start
    return FetchArgs(sequence, (c.fetch_item(),))


def _store(c: Cursor) -> StoreArgs:
    c.space()
    sequence = c.sequence_set()
    c.space()
    word = c.atom("FLAGS, +FLAGS or -FLAGS").upper()
    match = re.fullmatch(r"([+-]?)FLAGS(\.SILENT)?", word)
    if match is None:
        raise ParseError(f"expected FLAGS, +FLAGS or -FLAGS (optionally .SILENT), not {word}")
    c.space()
    if c.peek() == ord("("):
        flags = c.flag_list()
    else:
        found = [c.flag()]
        while c.peek() == 0x20:
            c.pos += 1
            found.append(c.flag())
        flags = tuple(found)
    return StoreArgs(sequence, match.group(1), bool(match.group(2)), flags)


def _copy(c: Cursor) -> CopyArgs:
    c.space()
    sequence = c.sequence_set()
    c.space()
    return CopyArgs(sequence, c.mailbox())


def _sequence(c: Cursor) -> SequenceArgs:
    c.space()
    return SequenceArgs(c.sequence_set())


def _enable(c: Cursor) -> NamesArgs:
    names = []
    while c.peek() == 0x20:
        c.pos += 1
        names.append(c.atom("a capability name").upper())
    if not names:
        raise ParseError("ENABLE needs at least one capability name")
    return NamesArgs(tuple(names))


def _id(c: Cursor) -> IdArgs:
    c.space()
    if c.data[c.pos : c.pos + 3].upper() == b"NIL":
        c.pos += 3
        return IdArgs(None)
    c.open_paren()
    fields: list[tuple[str, str | None]] = []
    while c.peek() != ord(")"):
        if fields:
            c.space()
        key = _text(c.string("an ID field name"), "an ID field name")
        c.space()
        fields.append((key, c.nstring("an ID field value")))
        if len(fields) > 30:
            raise ParseError("ID accepts at most 30 field-value pairs (RFC 2971)")
    c.close_paren()
    return IdArgs(tuple(fields))


ARGUMENTS: dict[str, Callable[[Cursor], Any]] = {
    "CAPABILITY": _no_arguments, "NOOP": _no_arguments, "LOGOUT": _no_arguments,
    "LOGIN": _login, "AUTHENTICATE": _authenticate, "STARTTLS": _no_arguments,
    "SELECT": _select, "EXAMINE": _select, "CREATE": _mailbox, "DELETE": _mailbox,
    "RENAME": _rename, "SUBSCRIBE": _mailbox, "UNSUBSCRIBE": _mailbox,
    "LIST": _list, "LSUB": _list, "STATUS": _status, "APPEND": _append,
    "CHECK": _no_arguments, "CLOSE": _no_arguments, "EXPUNGE": _no_arguments,
    "SEARCH": _search, "FETCH": _fetch, "STORE": _store, "COPY": _copy, "MOVE": _copy,
    "IDLE": _no_arguments, "NAMESPACE": _no_arguments, "UNSELECT": _no_arguments,
    "ENABLE": _enable, "ID": _id,
    "GETQUOTA": _getquota, "GETQUOTAROOT": _mailbox, "SETQUOTA": _setquota,
}
UID_VERBS = ("FETCH", "STORE", "SEARCH", "COPY", "MOVE", "EXPUNGE")


def _seven_bit(raw: str, what: str) -> None:
    """IMAP4rev1 names are 7-bit; others travel in modified UTF-7 (RFC 3501 §5.1.3)."""
    if not raw.isascii():
        raise ParseError(
            f"{what} {raw!r} holds 8-bit characters: send non-ASCII names in modified UTF-7 "
            "(RFC 3501 §5.1.3), e.g. Espa&APE-a for España"
        )


def parse_tag_and_verb(data: bytes) -> tuple[str, str, Cursor]:
    """The tag and the verb (upper-cased), and a cursor right after the verb."""
    c = Cursor(data)
    tag = c.tag()
    if c.peek() != 0x20:
        raise ParseError(f"expected a space after the tag {tag} {c._where()}")
    c.pos += 1
    verb = c._take(_ATOM_CHARS).decode("ascii").upper()
    if not verb:
        raise ParseError(f"missing command after the tag {tag}")
    return tag, verb, c


def parse_command(data: bytes) -> Command:
    """Parse a whole command; raises ParseError with what was wrong."""
    tag, verb, c = parse_tag_and_verb(data)
    uid = False
    if verb == "UID":
        c.space()
        verb = c._take(_ATOM_CHARS).decode("ascii").upper()
        if verb == "EXPUNGE":
            c.space()
            arguments = SequenceArgs(c.sequence_set())
            c.end()
            return Command(tag, verb, True, arguments)
        if verb not in UID_VERBS:
            raise ParseError(f"expected {', '.join(UID_VERBS)} after UID, not {verb or 'nothing'}")
        uid = True
    grammar = ARGUMENTS.get(verb)
    if grammar is None:
        raise ParseError(f"unknown command {verb}")
    arguments = grammar(c)
    c.end()
    return Command(tag, verb, uid, arguments)
