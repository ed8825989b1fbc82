"""One session as the views see it, built only from Bus events.

Console sessions and sessions of real TCP clients are the same thing here: a list of
transcript lines, the replies, the notes, the current state and the last transition.
Widgets render a model; nothing in it knows about Textual.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mailsim.events import (
    ClientLine,
    Closed,
    Connected,
    Delivered,
    Event,
    LineKind,
    Note,
    Protocol,
    RelayHop,
    Reply,
    ReplyClass,
    ServerLine,
    StateChanged,
    TlsStarted,
)
from mailsim.protocol.base import Session, split_wire_lines
from mailsim.protocol.classify import classify_server_block
from mailsim.ui import machine
from mailsim.ui.console import ConsoleConnection
from mailsim.ui.sasl_decode import SaslTracker

if TYPE_CHECKING:  # the TCP side (and its observers) load only when `mailsim connect` needs them
    from mailsim.transport.client import Connection


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
    completes: str = ""     # IMAP: the command a tagged completion answers (not on the wire)
    encrypted: bool = False  # sent after TLS started: an eavesdropper cannot read it
    wire: bytes | None = None  # console: the TLS record(s) that carried this line and the next
    decoded: str = ""       # console only: the base64 of a SASL exchange, decoded
    cleartext_password: bool = False  # a password that crossed the wire unencrypted


# A literal announced at the end of an IMAP line: {n} (synchronizing) or {n+} (LITERAL+).
_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r?\n?$")


def imap_tag_and_verb(data: bytes) -> tuple[str, str] | None:
    """("a", "FETCH") for `a FETCH 1 BODY[]`, ("b", "UID FETCH") for `b UID FETCH ...`;
    None for a line that is not a tagged command (DONE, a SASL response)."""
    words = data.decode("utf-8", errors="replace").split(None, 3)
    if len(words) < 2 or words[0] in ("*", "+"):
        return None
    verb = words[1].upper()
    if verb == "UID" and len(words) > 2:
        verb = f"UID {words[2].upper()}"
    return words[0], verb


@dataclass
class SessionModel:
    session_id: str
    protocol: Protocol
    engine: type[Session] | None
    number: int = 0
    read_only: bool = False
    peer: str = ""
    connection: Connection | None = None
    lines: list[TranscriptLine] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)   # since the last command
    history: list[str] = field(default_factory=list)
    state: str = ""
    last_transition: StateChanged | None = None
    closed: bool = False
    close_reason: str = ""
    version: int = 0
    # IMAP: tag -> the command sent with it, the last command, octets of a literal still due
    imap_commands: dict[str, str] = field(default_factory=dict)
    last_command_verb: str = ""
    _literal_left: int = 0
    # TLS: whether the wire is encrypted now, the handshake, and the encrypted octets
    # the console reported that the next line(s) of each direction travelled in.
    secure: bool = False
    tls: TlsStarted | None = None
    _wire_pending: dict[str, bytes] = field(default_factory=dict)
    _sasl: SaslTracker | None = None
    hop: RelayHop | None = None  # set for a relay session (the queue talking to another MX)

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

    def wire(self, direction: str, octets: bytes) -> None:
        """The console's encrypted octets ("C" or "S"), for the lines that follow."""
        self._wire_pending[direction] = self._wire_pending.get(direction, b"") + octets

    def apply(self, event: Event) -> None:
        self.version += 1
        start = len(self.lines)
        self._apply(event)
        if isinstance(event, (ClientLine, ServerLine)) and len(self.lines) > start:
            self._annotate(start, "C" if isinstance(event, ClientLine) else "S")

    def _annotate(self, start: int, direction: str) -> None:
        """Mark what TLS protects, and (console only) decode a SASL exchange's base64."""
        wire = self._wire_pending.pop(direction, None)
        decode = self.connection is not None
        if decode and self._sasl is None:
            self._sasl = SaslTracker(self.protocol)
        for index in range(start, len(self.lines)):
            line = self.lines[index]
            changes: dict[str, object] = {}
            if self.secure:
                changes["encrypted"] = True
                if index == start and wire:
                    changes["wire"] = wire
            if decode and self._sasl is not None and not line.content:
                found = self._sasl.client(line.data) if direction == "C" else self._sasl.server(line.data)
                if found is not None:
                    if found.text:
                        changes["decoded"] = found.text
                    changes["cleartext_password"] = found.password and not self.secure
            if changes:
                self.lines[index] = dataclasses.replace(line, **changes)

    def _apply(self, event: Event) -> None:
        if isinstance(event, TlsStarted):
            self.secure = True
            self.tls = event
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, Connected):
            self.peer = event.peer
            self.read_only = self.read_only or event.read_only
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, ClientLine):
            # A read-only tab watches someone else's connection, maybe on a shared
            # screen: their password is masked. The student's own console shows it.
            data = event.shown if self.read_only else event.data
            if self.protocol is Protocol.IMAP and event.line_kind:
                self._imap_client_line(event, data)
                return
            if self.protocol is Protocol.IMAP:  # a recording from before events said what a line is
                self._imap_client_lines(data)
                return
            self.notes = []
            content = self.multiline
            self.lines.extend(TranscriptLine(Direction.CLIENT, line, content=content) for line in split_wire_lines(data))
        elif isinstance(event, ServerLine):
            # A block (a RETR body, a FETCH with its literal) is shown line by line.
            lines = split_wire_lines(event.data)
            classes = classify_server_block(event.protocol, lines)
            self.lines.extend(
                TranscriptLine(Direction.SERVER, line, reply_class, content=reply_class is None,
                               completes=self._completes(line) if reply_class is not None else "")
                for line, reply_class in zip(lines, classes)
            )
        elif isinstance(event, Reply):
            self.replies.append(self._imap_reply(event) if self.protocol is Protocol.IMAP else event)
        elif isinstance(event, StateChanged):
            self.state = event.new
            self.last_transition = event
        elif isinstance(event, Note):
            self.notes.append(event)
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, Delivered):
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, RelayHop):
            self.hop = event  # a relay session: the outgoing queue speaking to another domain's MX
            self.lines.append(TranscriptLine(Direction.INFO, event=event))
        elif isinstance(event, Closed):
            self.closed = True
            self.close_reason = event.reason
            self.lines.append(TranscriptLine(Direction.INFO, event=event))

    # -- IMAP: which command each line belongs to ---------------------------------------------

    def _imap_client_line(self, event: ClientLine, data: bytes) -> None:
        """A command line (its tag and command remembered), or the octets of a literal
        (shown as content), as the engine or observer said."""
        literal = event.line_kind == LineKind.LITERAL
        if event.line_kind == LineKind.COMMAND and event.tag:
            self.notes = []
            self.imap_commands[event.tag] = event.verb
            self.last_command_verb = event.verb
        self.lines.extend(TranscriptLine(Direction.CLIENT, line, content=literal) for line in split_wire_lines(data))

    def _imap_client_lines(self, data: bytes) -> None:
        """Command lines, and the octets of a literal they announce (shown as content)."""
        for line in split_wire_lines(data):
            if self._literal_left > 0:
                self._literal_left -= len(line)
                self.lines.append(TranscriptLine(Direction.CLIENT, line, content=True))
                if self._literal_left < 0:  # the command goes on after the literal on this line
                    self._literal_left = 0
                    self._expect_literal(line)
                continue
            self.notes = []
            command = imap_tag_and_verb(line)
            if command is not None:
                tag, verb = command
                self.imap_commands[tag] = verb
                self.last_command_verb = verb
            self.lines.append(TranscriptLine(Direction.CLIENT, line))
            self._expect_literal(line)

    def _expect_literal(self, line: bytes) -> None:
        match = _LITERAL_AT_END.search(line)
        if match is not None:
            self._literal_left = int(match.group(1))

    def _completes(self, line: bytes) -> str:
        if self.protocol is not Protocol.IMAP:
            return ""
        tag = line.split(b" ", 1)[0].decode("utf-8", errors="replace")
        if tag in ("*", "+"):
            return ""
        self._literal_left = 0  # a completion instead of "+": the announced literal never comes
        return self.imap_commands.get(tag, "")

    def _imap_reply(self, reply: Reply) -> Reply:
        """The command a reply answers, as the client's lines say: by its tag, or for a
        continuation request the command just sent (the engine knows it only once the
        whole command, literal included, has arrived)."""
        if reply.tag:
            verb = self.imap_commands.get(reply.tag, reply.command)
        elif reply.code == "+":
            verb = self.last_command_verb or reply.command
        else:
            return reply
        return reply if verb == reply.command else dataclasses.replace(reply, command=verb)
