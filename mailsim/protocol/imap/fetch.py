"""FETCH responses (RFC 3501 §6.4.5, §7.4.2): one message's data items as bytes.

ENVELOPE, BODY, BODYSTRUCTURE and every BODY[section] come from the MIME model
(`mailsim.mime.imap`), through the facts cached per message — the same tree the
inspector shows. Body data is always sent as a literal, as Dovecot does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mailsim.mime.imap import Section, partial, section_bytes
from mailsim.protocol.imap.index import MessageFacts, facts
from mailsim.protocol.imap.parser import MONTHS, FetchItem
from mailsim.store.model import StoredMessage

SYSTEM_FLAG_ORDER = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
_SECTION_HEADER = Section(text="HEADER")
_SECTION_TEXT = Section(text="TEXT")


def format_flags(flags: set[str] | frozenset[str], recent: bool = False) -> str:
    """System flags in a fixed order, then keywords sorted: the same set always
    reads the same, which keeps transcripts comparable."""
    if not flags:
        return "(\\Recent)" if recent else "()"
    ordered = [f for f in SYSTEM_FLAG_ORDER if f in flags]
    if len(ordered) != len(flags):
        ordered += sorted(f for f in flags if f not in SYSTEM_FLAG_ORDER)
    if recent:
        ordered.append("\\Recent")
    return "(" + " ".join(ordered) + ")"


def format_internal_date(when: datetime) -> str:
    """`"17-Jul-1996 02:44:25 -0700"` (date-time, RFC 3501 §9)."""
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return (
        f'"{when.day:02d}-{MONTHS[when.month - 1]}-{when.year:04d} '
        f'{when.hour:02d}:{when.minute:02d}:{when.second:02d} {sign}{minutes // 60:02d}{minutes % 60:02d}"'
    )


def sets_seen(items: tuple[FetchItem, ...]) -> bool:
    """Whether fetching these items sets \\Seen (BODY[...] without PEEK, RFC822, RFC822.TEXT)."""
    return any(
        (item.section is not None and not item.peek) or item.name in ("RFC822", "RFC822.TEXT") for item in items
    )


Rendered = bytes | tuple[bytes, bytes]  # an item, or an item ending in a literal: (up to {n}CRLF, octets)
Part = Callable[[StoredMessage, "MessageFacts | None", bytes], Rendered]


def item_renderer(items: tuple[FetchItem, ...]) -> Callable[[StoredMessage, str], list[bytes]]:
    """A function rendering one message's parenthesised item list, as pieces to send
    in order. A literal's octets are a piece of their own, the stored bytes
    themselves: a long body is never copied to be sent.

    The items are looked at once per command, not once per message: a FETCH 1:* over
    ten thousand messages then only runs the small per-item functions chosen here.
    """
    parts: list[Part] = [_part(item) for item in items]
    needs_facts = any(item.name not in ("UID", "FLAGS", "INTERNALDATE") for item in items)

    def render(message: StoredMessage, flags: str) -> list[bytes]:
        found = facts(message) if needs_facts else None
        encoded = flags.encode("utf-8")
        pieces = [b"("]
        for index, part in enumerate(parts):
            if index:
                pieces.append(b" ")
            value = part(message, found, encoded)
            if isinstance(value, tuple):
                pieces.extend(value)
            else:
                pieces.append(value)
        pieces.append(b")")
        return pieces

    return render


def _literal(label: bytes, data: bytes) -> tuple[bytes, bytes]:
    """`LABEL {n}CRLF` and the octets, apart."""
    return label + b" {%d}\r\n" % len(data), data


def _part(item: FetchItem) -> Part:
    name = item.name
    if name == "UID":
        return lambda m, f, flags: b"UID %d" % m.uid
    if name == "FLAGS":
        return lambda m, f, flags: b"FLAGS " + flags
    if name == "INTERNALDATE":
        return lambda m, f, flags: b"INTERNALDATE " + format_internal_date(m.internal_date).encode("ascii")
    if name == "RFC822.SIZE":
        return lambda m, f, flags: b"RFC822.SIZE %d" % len(f.wire)  # type: ignore[union-attr]
    if name == "ENVELOPE":
        return lambda m, f, flags: b"ENVELOPE " + f.envelope  # type: ignore[union-attr]
    if name == "BODYSTRUCTURE":
        return lambda m, f, flags: b"BODYSTRUCTURE " + f.bodystructure  # type: ignore[union-attr]
    if name == "BODY" and item.section is None:
        return lambda m, f, flags: b"BODY " + f.body  # type: ignore[union-attr]
    if name == "RFC822":
        return lambda m, f, flags: _literal(b"RFC822", f.wire)  # type: ignore[union-attr]
    if name in ("RFC822.HEADER", "RFC822.TEXT"):
        section = _SECTION_HEADER if name == "RFC822.HEADER" else _SECTION_TEXT
        label = name.encode("ascii")
        return lambda m, f, flags: _literal(label, section_bytes(f.wire, f.model, section) or b"")  # type: ignore[union-attr]
    assert item.section is not None
    label = item.response_label().encode("utf-8")
    wanted, window = item.section, item.partial

    def body_section(m: StoredMessage, f: MessageFacts | None, flags: bytes) -> Rendered:
        assert f is not None
        data = section_bytes(f.wire, f.model, wanted)
        if data is None:
            return label + b" NIL"
        if window is not None:
            data = partial(data, *window)
        return _literal(label, data)

    return body_section
