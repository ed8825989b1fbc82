"""FETCH responses (RFC 3501 §6.4.5, §7.4.2): one message's data items as bytes.

ENVELOPE, BODY, BODYSTRUCTURE and every BODY[section] come from the MIME model
(`mailsim.mime.imap`), through the facts cached per message — the same tree the
inspector shows. Body data is always sent as a literal, as Dovecot does.
"""

from __future__ import annotations

from datetime import datetime

from mailsim.mime.imap import Section, imap_literal, partial, section_bytes
from mailsim.protocol.imap.index import facts
from mailsim.protocol.imap.parser import MONTHS, FetchItem
from mailsim.store.model import StoredMessage

SYSTEM_FLAG_ORDER = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
_SECTION_HEADER = Section(text="HEADER")
_SECTION_TEXT = Section(text="TEXT")


def format_flags(flags: set[str] | frozenset[str], recent: bool = False) -> str:
    """System flags in a fixed order, then keywords sorted: the same set always
    reads the same, which keeps transcripts comparable."""
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


def render_items(message: StoredMessage, items: tuple[FetchItem, ...], flags: str) -> bytes:
    """The parenthesised item list of one FETCH response, literals inline."""
    found = None
    out: list[bytes] = []
    for item in items:
        name = item.name
        if name == "UID":
            out.append(b"UID %d" % message.uid)
        elif name == "FLAGS":
            out.append(b"FLAGS " + flags.encode("utf-8"))
        elif name == "INTERNALDATE":
            out.append(b"INTERNALDATE " + format_internal_date(message.internal_date).encode("ascii"))
        else:
            if found is None:
                found = facts(message)
            if name == "RFC822.SIZE":
                out.append(b"RFC822.SIZE %d" % len(found.wire))
            elif name == "ENVELOPE":
                out.append(b"ENVELOPE " + found.envelope)
            elif name == "BODYSTRUCTURE":
                out.append(b"BODYSTRUCTURE " + found.bodystructure)
            elif name == "BODY" and item.section is None:
                out.append(b"BODY " + found.body)
            elif name == "RFC822":
                out.append(b"RFC822 " + imap_literal(found.wire))
            elif name == "RFC822.HEADER":
                out.append(b"RFC822.HEADER " + imap_literal(section_bytes(found.wire, found.model, _SECTION_HEADER) or b""))
            elif name == "RFC822.TEXT":
                out.append(b"RFC822.TEXT " + imap_literal(section_bytes(found.wire, found.model, _SECTION_TEXT) or b""))
            else:
                assert item.section is not None
                data = section_bytes(found.wire, found.model, item.section)
                label = item.response_label().encode("utf-8")
                if data is None:
                    out.append(label + b" NIL")
                else:
                    if item.partial is not None:
                        data = partial(data, *item.partial)
                    out.append(label + b" " + imap_literal(data))
    return b"(" + b" ".join(out) + b")"
