"""The events every part of mailsim speaks: what happened in a session or in the store.

Engines create them, transports publish them on the Bus, and the UI, the recorder and the
lesson checks match on them. They are frozen and validated on construction, so a
subscriber can trust every field. Each one turns into a plain dict (`to_record`) and back
(`event_from_record`): that dict is one line of a JSON Lines transcript.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar


class Protocol(enum.StrEnum):
    SMTP = "smtp"
    POP3 = "pop3"
    IMAP = "imap"


class ReplyClass(enum.StrEnum):
    """What kind of answer a reply is, across the three protocols.

    SMTP's first digit (RFC 5321 §4.2.1), POP3's `+OK`/`-ERR`, IMAP's OK/NO/BAD,
    untagged data and `+` continuation all map onto these, so colours and lesson
    checks need no per-protocol knowledge.
    """

    SUCCESS = "success"            # 2xx, +OK, OK
    INTERMEDIATE = "intermediate"  # 3xx, POP3/IMAP "+" continuation
    TRANSIENT = "transient"        # 4xx: try again later
    PERMANENT = "permanent"        # 5xx: do not repeat as is
    BAD = "bad"                    # IMAP BAD: the command itself was malformed
    DATA = "data"                  # IMAP untagged "*" data, not a completion
    # POP3 -ERR and IMAP NO: the command failed. Neither protocol says whether trying
    # again can help (RFC 1939 §3, RFC 3501 §7.1.2), so neither is called permanent.
    NEGATIVE = "negative"
    # IMAP untagged BYE: the server is closing the connection (RFC 3501 §7.1.5), the
    # normal end of LOGOUT; not a failure, temporary or otherwise.
    CLOSING = "closing"

    def satisfies(self, expected: "ReplyClass") -> bool:
        """Does a reply of this class meet a lesson's `class = expected`? Lessons written
        when -ERR/NO were called "permanent" and BYE "transient" still match them."""
        return self is expected or _FORMERLY.get(self) is expected

    @classmethod
    def of_record(cls, value: str, code: str) -> "ReplyClass":
        """The class of a recorded reply, as today's engines would name it (recordings
        made before NEGATIVE and CLOSING existed read back with the current names)."""
        recorded = cls(value)
        current = _TODAY_BY_CODE.get(code.upper())
        return current if current is not None and _FORMERLY.get(current) is recorded else recorded

    @classmethod
    def of_smtp(cls, code: int) -> "ReplyClass":
        first = code // 100
        if first == 2:
            return cls.SUCCESS
        if first == 3:
            return cls.INTERMEDIATE
        if first == 4:
            return cls.TRANSIENT
        if first == 5:
            return cls.PERMANENT
        raise ValueError(f"not an SMTP reply code: {code}")


_FORMERLY = {ReplyClass.NEGATIVE: ReplyClass.PERMANENT, ReplyClass.CLOSING: ReplyClass.TRANSIENT}
_TODAY_BY_CODE = {"-ERR": ReplyClass.NEGATIVE, "NO": ReplyClass.NEGATIVE, "BYE": ReplyClass.CLOSING}


def _check_session(session_id: str) -> None:
    if not session_id:
        raise ValueError("an event needs a session id")


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events: who (session) and when (seconds since the epoch)."""

    session_id: str
    timestamp: float

    kind: ClassVar[str] = "event"

    def __post_init__(self) -> None:
        _check_session(self.session_id)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            record[f.name] = _encode(getattr(self, f.name))
        return record


@dataclass(frozen=True, slots=True)
class Connected(Event):
    protocol: Protocol
    peer: str = ""
    read_only: bool = False

    kind: ClassVar[str] = "connected"


class LineKind(enum.StrEnum):
    """What a client line is, as the server reading it understood it."""

    COMMAND = "command"          # a command line (or the rest of one after an IMAP literal)
    LITERAL = "literal"          # the octets of an IMAP literal
    DATA = "data"                # message text: SMTP DATA lines, a BDAT chunk
    END_OF_DATA = "end-of-data"  # SMTP's lone "." that ends DATA
    SASL = "sasl"                # a response in an AUTH / AUTHENTICATE exchange
    DONE = "done"                # the line that ends IMAP IDLE
    ENCRYPTED = "encrypted"      # after STARTTLS: bytes only the two ends can read


@dataclass(frozen=True, slots=True)
class ClientLine(Event):
    """Bytes the client sent: one command line, a block of DATA lines, or one literal.

    `secret`, when the line carries a password or an AUTH response, is `(start, end,
    form)`: the octets `data[start:end]` and what they are ("text": a password as
    typed; "quoted": one inside an IMAP quoted string, with its backslash escapes;
    "sasl-plain" / "sasl-text": base64 of a SASL PLAIN response / of a
    password; "digest": a response that proves a password without holding it).
    `shown` is the line as a log or a shared screen may show it.
    `line_kind` (a `LineKind` value), `verb` and `tag` say what the server took it for:
    the verb of the command it is (or belongs to: a literal, DATA text, a SASL
    response name their command), and the IMAP tag. Empty in recordings made before
    schema version 2.
    """

    protocol: Protocol
    data: bytes
    line_kind: str = ""
    verb: str = ""
    tag: str = ""
    secret: tuple = ()

    kind: ClassVar[str] = "client"

    def to_record(self) -> dict[str, Any]:
        record = Event.to_record(self)
        if not self.secret:
            del record["secret"]  # most lines: the record stays as it always was
        return record

    @property
    def shown(self) -> bytes:
        if not self.secret:
            return self.data
        start, end = int(self.secret[0]), int(self.secret[1])
        return self.data[:start] + SECRET_MASK + self.data[end:]


SECRET_MASK = b"********"  # always eight: the mask does not tell the length either


@dataclass(frozen=True, slots=True)
class ServerLine(Event):
    """Bytes the server sent: one reply line, or a block of message lines (a RETR or
    FETCH body), CRLF included."""

    protocol: Protocol
    data: bytes
    content: bool = False  # the whole block is message text (a POP3 RETR/TOP body), not status

    kind: ClassVar[str] = "server"


@dataclass(frozen=True, slots=True)
class Reply(Event):
    """A complete reply, with the code, its class and the command it answers.

    `code` is the protocol's own token: "250", "+OK", "-ERR", "OK", "NO", "BAD",
    "*" or "+". `enhanced` is the RFC 3463 status ("2.1.5") where SMTP gives one.
    `command` is the verb answered ("" for a greeting or an unsolicited reply).
    `key` names the explanation of this exact reply in the protocol's data file.
    """

    protocol: Protocol
    code: str
    reply_class: ReplyClass
    command: str
    text: str
    enhanced: str = ""
    tag: str = ""
    key: str = ""  # the engine's name for this reply, e.g. "no-such-user"

    kind: ClassVar[str] = "reply"

    def __post_init__(self) -> None:
        _check_session(self.session_id)
        if not self.code:
            raise ValueError("a reply needs a code")


@dataclass(frozen=True, slots=True)
class StateChanged(Event):
    protocol: Protocol
    old: str
    new: str
    command: str

    kind: ClassVar[str] = "state"


@dataclass(frozen=True, slots=True)
class Delivered(Event):
    """A message accepted by SMTP landed in a mailbox, or in the outgoing queue."""

    queue_id: str
    sender: str
    recipient: str
    account: str = ""       # empty when relayed to the outgoing queue
    mailbox: str = ""
    uid: int = 0
    size: int = 0
    relayed: bool = False

    kind: ClassVar[str] = "delivered"


@dataclass(frozen=True, slots=True)
class Closed(Event):
    protocol: Protocol
    reason: str = ""

    kind: ClassVar[str] = "closed"


@dataclass(frozen=True, slots=True)
class Note(Event):
    """Something a student should be told that is not on the wire (a teaching point).

    `key` names an explanation in the protocol's data file; `params` fill its blanks.
    """

    protocol: Protocol
    key: str
    params: tuple[tuple[str, str], ...] = field(default=())

    kind: ClassVar[str] = "note"


@dataclass(frozen=True, slots=True)
class DeletionMarked(Event):
    """A POP3 session marked a message for deletion (DELE) or took the mark back (RSET,
    or a connection lost before QUIT). Nothing is removed until QUIT: the mailbox view
    strikes the message through meanwhile."""

    account: str
    uid: int
    marked: bool
    mailbox: str = "INBOX"

    kind: ClassVar[str] = "deletion-mark"


@dataclass(frozen=True, slots=True)
class TlsStarted(Event):
    """The connection is encrypted from here on: a STARTTLS/STLS upgrade completed, or
    an implicit-TLS connection (`implicit`) finished its handshake before the greeting.

    `subject` and `fingerprint` (SHA-256, colon-separated hex) name the server's
    certificate as the client saw it. `simulated`: no real handshake took place (a
    replay re-runs the upgrade against engines without sockets).
    """

    protocol: Protocol
    version: str = ""
    cipher: str = ""
    subject: str = ""
    fingerprint: str = ""
    implicit: bool = False
    simulated: bool = False

    kind: ClassVar[str] = "tls"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (Connected, ClientLine, ServerLine, Reply, StateChanged, Delivered, Closed, Note, DeletionMarked)
}
EVENT_TYPES[TlsStarted.kind] = TlsStarted


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return {"text": value.decode("utf-8")}
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


class RecordError(ValueError):
    """A transcript record that cannot be turned back into an event."""


def event_from_record(record: dict[str, Any]) -> Event:
    """Rebuild an event from `Event.to_record()` output; raises RecordError if malformed."""
    if not isinstance(record, dict):
        raise RecordError("a record must be a JSON object")
    kind = record.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise RecordError(f"unknown event kind {kind!r}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in record:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise RecordError(f"{kind} event lacks field {f.name!r}")
            continue
        try:
            kwargs[f.name] = _decode(f.name, f.type, record[f.name])
        except (TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"bad field {f.name!r} in {kind} event: {exc}") from exc
    if isinstance(kwargs.get("reply_class"), ReplyClass):
        kwargs["reply_class"] = ReplyClass.of_record(kwargs["reply_class"].value, str(kwargs.get("code", "")))
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"bad {kind} event: {exc}") from exc


def _decode(name: str, annotation: Any, value: Any) -> Any:
    type_name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if type_name == "bytes":
        if isinstance(value, dict) and "text" in value:
            return str(value["text"]).encode("utf-8")
        if isinstance(value, dict) and "base64" in value:
            return base64.b64decode(value["base64"])
        raise RecordError(f"field {name!r} must be {{'text': ...}} or {{'base64': ...}}")
    if type_name == "Protocol":
        return Protocol(value)
    if type_name == "ReplyClass":
        return ReplyClass(value)
    if type_name.startswith("tuple"):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


@dataclass(frozen=True, slots=True)
class RelayHop(Event):
    """A relay session began: the outgoing queue hands message `queue_id` for
    `recipient` to the next hop, `server_host`, as attempt number `attempt`. Published
    right after the hop session's `connected`; the rest of the hop is the session's
    ordinary events (the server's side, as for any SMTP session)."""

    queue_id: str
    sender: str
    recipient: str
    client_host: str
    server_host: str
    attempt: int = 1

    kind: ClassVar[str] = "hop"


EVENT_TYPES[RelayHop.kind] = RelayHop
