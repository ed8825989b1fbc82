"""The message (and part) an IMAP session last fetched, read from the session itself.

After `FETCH 3 BODYSTRUCTURE` or `UID FETCH 12 BODY[2.1]` the inspector opens that stored
message with that part selected. The message is found the way the server found it:
the session's selected mailbox, numbered as the session numbers it (its view may lag
the store until updates are reported), or by UID. The command is the last FETCH the
student typed; nothing is parsed from the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailsim.events import Protocol
from mailsim.protocol.imap.parser import FetchArgs, ParseError, parse_command
from mailsim.store.model import StoredMessage
from mailsim.ui.model import Direction, SessionModel, imap_tag_and_verb


@dataclass(frozen=True)
class FetchedPart:
    account: str
    mailbox: str
    message: StoredMessage
    section: str      # "2.1"; "" for the whole message (BODYSTRUCTURE, BODY[], BODY[TEXT])
    command: str      # the FETCH line as typed, for the inspector's title


def last_fetch_command(model: SessionModel) -> bytes | None:
    """The last FETCH or UID FETCH command line the client sent."""
    for line in reversed(model.lines):
        if line.direction is not Direction.CLIENT or line.content:
            continue
        command = imap_tag_and_verb(line.data)
        if command is not None and command[1] in ("FETCH", "UID FETCH"):
            return line.data.rstrip(b"\r\n")
    return None


def fetched_part(model: SessionModel | None) -> FetchedPart | None:
    """What the last FETCH of a console IMAP session named, or None."""
    if model is None or model.protocol is not Protocol.IMAP or model.connection is None:
        return None
    session: Any = model.connection.session
    view = getattr(session, "selected", None)
    line = last_fetch_command(model)
    if view is None or line is None:
        return None
    try:
        command = parse_command(line)
    except (ParseError, ValueError):
        return None
    arguments = command.arguments
    if not isinstance(arguments, FetchArgs) or not view.messages:
        return None
    message = _first_named(view.messages, arguments, by_uid=command.uid)
    if message is None:
        return None
    return FetchedPart(session.user, view.name, message, _section(arguments), line.decode("utf-8", "replace"))


def _first_named(messages: list[StoredMessage], arguments: FetchArgs, *, by_uid: bool) -> StoredMessage | None:
    sequence = arguments.sequence
    if by_uid:
        largest = messages[-1].uid
        return next((m for m in messages if sequence.contains(m.uid, largest)), None)
    numbers = [n for n in sequence.resolve(len(messages)) if 1 <= n <= len(messages)]
    return messages[numbers[0] - 1] if numbers else None


def _section(arguments: FetchArgs) -> str:
    """The first part a BODY[...] item names ("2.1"); "" when only the whole message is."""
    for item in arguments.items:
        section = item.section
        if section is not None and section.part:
            return ".".join(str(number) for number in section.part)
    return ""


def fetch_offer(model: SessionModel | None) -> str | None:
    """A command that would get a message into this console session, for Ctrl+T to type
    when there is none to open yet: IMAP with a mailbox selected fetches its newest
    message without marking it \\Seen; POP3 in TRANSACTION retrieves message 1."""
    if model is None or model.connection is None or model.closed:
        return None
    session: Any = model.connection.session
    if model.protocol is Protocol.IMAP:
        view = getattr(session, "selected", None)
        if view is not None and view.messages and model.state == "selected":
            return f"m{len(model.imap_commands) + 1} FETCH {len(view.messages)} BODY.PEEK[]"
    if model.protocol is Protocol.POP3 and model.state == "transaction":
        return "RETR 1"
    return None
