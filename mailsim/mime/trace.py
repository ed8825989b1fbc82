"""The path a message took, read from its trace header fields.

Every SMTP server that takes a message adds a `Received:` line on top (RFC 5321
§4.4): who handed it over (`from`, with the address the connection came from), who
took it (`by`), how (`with ESMTP`, `ESMTPA` when the client logged in, RFC 3848),
the server's queue id (`id`), for whom (`for`) and when (after the `;`). Read from the
bottom up, the lines are the hops in order; the differences between their times are
how long each server held the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

_FROM = re.compile(r"\bfrom\s+(\S+)(?:\s+\(([^)]*)\))?", re.IGNORECASE)
_BY = re.compile(r"\bby\s+(\S+)", re.IGNORECASE)
_WITH = re.compile(r"\bwith\s+(\S+)", re.IGNORECASE)
_ID = re.compile(r"\bid\s+([^\s;]+)", re.IGNORECASE)
_FOR = re.compile(r"\bfor\s+<?([^\s<>;]+)>?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Hop:
    """One Received line, parsed."""

    number: int              # 1 = the first server the message reached
    from_host: str           # the name the client gave (EHLO), "" for a local origin
    from_detail: str         # what the server saw of the client: its address
    by_host: str
    with_protocol: str
    queue_id: str
    recipient: str
    date: datetime | None
    delay: float | None      # seconds since the previous hop, when both have dates
    raw: str                 # the unfolded line, as written


def unfold(value: str) -> str:
    return " ".join(value.split())


def parse_received(value: str, number: int = 0, previous: datetime | None = None) -> Hop:
    text = unfold(value)
    clauses, _, date_text = text.rpartition(";")
    if not clauses:  # no date at all
        clauses, date_text = text, ""
    date: datetime | None
    try:
        date = parsedate_to_datetime(date_text.strip()) if date_text.strip() else None
    except (TypeError, ValueError):
        date = None
    found_from = _FROM.search(clauses)
    delay = (date - previous).total_seconds() if date is not None and previous is not None else None
    return Hop(
        number=number,
        from_host=found_from.group(1) if found_from else "",
        from_detail=(found_from.group(2) or "") if found_from else "",
        by_host=_group(_BY, clauses),
        with_protocol=_group(_WITH, clauses),
        queue_id=_group(_ID, clauses),
        recipient=_group(_FOR, clauses),
        date=date,
        delay=delay,
        raw=text,
    )


def _group(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(1) if found else ""


def message_path(raw: bytes) -> list[Hop]:
    """The hops of a message, first server first (the Received lines bottom up)."""
    header = BytesHeaderParser(policy=compat32).parsebytes(raw, headersonly=True)
    values = [str(v) for v in header.get_all("Received", [])]
    hops: list[Hop] = []
    previous: datetime | None = None
    for number, value in enumerate(reversed(values), start=1):
        hop = parse_received(value, number, previous)
        hops.append(hop)
        previous = hop.date or previous
    return hops


def return_path(raw: bytes) -> str | None:
    """The envelope sender the last server recorded (RFC 5321 §4.4), `""` for a
    bounce (`<>`), None when the message has no Return-Path."""
    header = BytesHeaderParser(policy=compat32).parsebytes(raw, headersonly=True)
    value = header.get("Return-Path")
    return None if value is None else unfold(str(value)).strip("<>")
