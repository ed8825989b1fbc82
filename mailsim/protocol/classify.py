"""Which class a server line belongs to, from its bytes alone.

The wire log and the transcript colour each line as it arrives, before the engine's
Reply event for the whole (possibly multi-line) reply exists.
"""

from __future__ import annotations

from mailsim.events import Protocol, ReplyClass

# The class of each reply token, once for the engines, the observers and the views.
POP3_REPLY_CLASSES = {"+OK": ReplyClass.SUCCESS, "-ERR": ReplyClass.NEGATIVE, "+": ReplyClass.INTERMEDIATE}
IMAP_REPLY_CLASSES = {"OK": ReplyClass.SUCCESS, "PREAUTH": ReplyClass.SUCCESS, "NO": ReplyClass.NEGATIVE,
                      "BAD": ReplyClass.BAD, "BYE": ReplyClass.CLOSING, "+": ReplyClass.INTERMEDIATE}
_IMAP_STATUS = {token.encode(): reply_class for token, reply_class in IMAP_REPLY_CLASSES.items() if token != "+"}


def classify_server_line(protocol: Protocol, data: bytes) -> ReplyClass | None:
    """The reply class of one server line, or None for message content."""
    if protocol is Protocol.SMTP:
        if len(data) >= 3 and data[:3].isdigit():
            return ReplyClass.of_smtp(int(data[:3])) if data[0:1] in b"2345" else None
        return None
    if protocol is Protocol.POP3:
        if data.startswith(b"+OK"):
            return ReplyClass.SUCCESS
        if data.startswith(b"-ERR"):
            return ReplyClass.NEGATIVE
        if data.startswith(b"+ ") or data.rstrip(b"\r\n") == b"+":
            return ReplyClass.INTERMEDIATE
        return None
    # IMAP: "* ..." untagged, "+ ..." continuation, "tag OK|NO|BAD ..." completion.
    if data.startswith(b"+ ") or data.rstrip(b"\r\n") == b"+":
        return ReplyClass.INTERMEDIATE
    parts = data.split(b" ", 2)
    if len(parts) >= 2:
        status = _IMAP_STATUS.get(parts[1].rstrip(b"\r\n").upper())
        if parts[0] == b"*":
            return status if status in (ReplyClass.CLOSING, ReplyClass.BAD, ReplyClass.NEGATIVE) else ReplyClass.DATA
        if status is not None:
            return status
    return None


def classify_server_block(protocol: Protocol, lines: list[bytes]) -> list[ReplyClass | None]:
    """Classes for the lines of one ServerLine event. A POP3 block is always a message
    body (its status line is sent on its own); an IMAP block is one response whose
    first line is the untagged data and the rest a literal; SMTP sends line by line."""
    if len(lines) == 1:
        return [classify_server_line(protocol, lines[0])]
    if protocol is Protocol.POP3:
        return [None] * len(lines)
    if protocol is Protocol.IMAP:
        return [classify_server_line(protocol, lines[0])] + [None] * (len(lines) - 1)
    return [classify_server_line(protocol, line) for line in lines]
