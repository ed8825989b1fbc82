"""The last message a session carried, recovered from its transcript.

What the inspector opens from a session tab: the message just sent with
SMTP DATA, retrieved with POP3 RETR (or TOP), or fetched with an IMAP FETCH
literal.  The transcript holds the exact wire lines, so the message is
rebuilt from them: DATA and RETR undo the dot-stuffing (RFC 5321 §4.5.2,
RFC 1939 §3), a FETCH literal is the ``{n}`` octets after its line.
No Textual here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailsim.events import Protocol
from mailsim.ui.model import Direction, TranscriptLine

_LITERAL = re.compile(rb"\{(\d+)\}\r\n")
_END = (b".\r\n", b".\n", b".")


def last_message(protocol: Protocol, lines: Sequence[TranscriptLine]) -> bytes | None:
    """The raw bytes of the last complete message in ``lines``, or None."""
    if protocol is Protocol.SMTP:
        return _last_data(lines)
    if protocol is Protocol.POP3:
        return _last_retr(lines)
    if protocol is Protocol.IMAP:
        return _last_literal(lines)
    return None


def _unstuff(body: list[bytes]) -> bytes:
    return b"".join(line[1:] if line.startswith(b"..") else line for line in body)


def _last_data(lines: Sequence[TranscriptLine]) -> bytes | None:
    found = None
    collecting: list[bytes] | None = None
    for line in lines:
        if line.direction is not Direction.CLIENT:
            if collecting is not None and line.direction is Direction.SERVER and line.data[:1] in b"45":
                collecting = None  # DATA refused (or the 354 never came)
            continue
        if collecting is None:
            if line.data.strip().upper() in (b"DATA",):
                collecting = []
            continue
        if line.data in _END:
            found = _unstuff(collecting)
            collecting = None
        else:
            collecting.append(line.data)
    return found


def _last_retr(lines: Sequence[TranscriptLine]) -> bytes | None:
    found = None
    expecting = False
    collecting: list[bytes] | None = None
    for line in lines:
        if line.direction is Direction.CLIENT:
            verb = line.data.split(b" ", 1)[0].strip().upper()
            expecting = verb in (b"RETR", b"TOP")
            continue
        if line.direction is not Direction.SERVER:
            continue
        if collecting is None:
            if expecting and line.data.startswith(b"+OK"):
                collecting = []
            expecting = False
            continue
        if line.data in _END:
            found = _unstuff(collecting)
            collecting = None
        else:
            collecting.append(line.data)
    return found


def _last_literal(lines: Sequence[TranscriptLine]) -> bytes | None:
    """The last complete literal of a FETCH response.  A response may be one
    transcript entry holding its literals, or be split over several lines."""
    found = None
    for index, line in enumerate(lines):
        if line.direction is not Direction.SERVER or b"FETCH" not in line.data[:64].upper():
            continue
        data = line.data
        following = index + 1
        for match in _LITERAL.finditer(data):
            wanted = int(match.group(1))
            literal = data[match.end() : match.end() + wanted]
            while len(literal) < wanted and following < len(lines):
                if lines[following].direction is Direction.SERVER:
                    literal += lines[following].data
                following += 1
            if len(literal) >= wanted:
                found = literal[:wanted]
    return found
