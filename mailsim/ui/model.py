"""One session as the views see it, built only from Bus events.

Console sessions and sessions of real TCP clients are the same thing here: a list of
transcript lines, the replies, the notes, the current state and the last transition.
Widgets render a model; nothing in it knows about Textual.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mailsim.events import (
    ClientLine,
    Closed,
    Connected,
    Delivered,
    Event,
    Note,
    Protocol,
    Reply,
    ReplyClass,
    ServerLine,
    StateChanged,
)
from mailsim.protocol.base import Session, split_wire_lines
from mailsim.protocol.classify import classify_server_block
from mailsim.ui import machine
from mailsim.ui.console import ConsoleConnection


class Direction(enum.Enum):
    CLIENT = "C"
    SERVER = "S"
    INFO = "i"  # not on the wire: connected, closed, delivered, a teaching note


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    direction: Direction
    data: bytes = b""
    reply_class: ReplyClass | None = None
    content: bool = False   # message body, not a command or a reply line
    event: Event | None = None  # for INFO lines: what to describe


@dataclass
class SessionModel:
    session_id: str
    protocol: Protocol
    engine: type[Session] | None
    number: int = 0
    read_only: bool = False
    peer: str = ""
    connection: ConsoleConnection | None = None
    lines: list[TranscriptLine] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)   # since the last command
    history: list[str] = field(default_factory=list)
    state: str = ""
    last_transition: StateChanged | None = None
    closed: bool = False
    close_reason: str = ""
    version: int = 0

    def __post_init__(self) -> None:
        if not self.state:
            self.state = machine.initial_state(self.engine)

    @property
    def available(self) -> bool:
        return self.engine is not None

    @property
    def multiline(self) -> bool:
        return not self.closed and machine.is_multiline(self.engine, self.state)

    @property
    def envelope(self) -> object | None:
        """The open mail transaction, when the engine has one (SMTP)."""
        if self.connection is None:
            return None
        return getattr(self.connection.session, "envelope", None)

    def apply(self, event: Event) -> None:
        self.version += 1
        if isinstance(event, Connected):
            self.peer = event.peer
            self.read_only = self.read_only or event.read_only
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, ClientLine):
            self.notes = []
            content = self.multiline
            self.lines.extend(TranscriptLine(Direction.CLIENT, line, content=content) for line in split_wire_lines(event.data))
        elif isinstance(event, ServerLine):
            # A block (a RETR body, a FETCH with its literal) is shown line by line.
            lines = split_wire_lines(event.data)
            classes = classify_server_block(event.protocol, lines)
            self.lines.extend(
                TranscriptLine(Direction.SERVER, line, reply_class, content=reply_class is None)
                for line, reply_class in zip(lines, classes)
            )
        elif isinstance(event, Reply):
            self.replies.append(event)
        elif isinstance(event, StateChanged):
            self.state = event.new
            self.last_transition = event
        elif isinstance(event, Note):
            self.notes.append(event)
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, Delivered):
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, Closed):
            self.closed = True
            self.close_reason = event.reason
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
