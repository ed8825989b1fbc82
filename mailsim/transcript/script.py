"""A recording read as a script: what the client side did, step by step, and what the
server answered then.

A step is one run of client input in one session (a command line, or a whole DATA
body and its final dot, or an IMAP command with its literals) together with every
server event recorded after it until the next client input — the IDLE wake-up of
another session caused by a delivery included. Connecting and the client going away
are steps too. Both the JSON Lines reader and the RFC-style reader produce a Script;
the replay engine runs one.
"""

from __future__ import annotations

import dataclasses

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mailsim.events import ClientLine, Closed, Connected, Event, Protocol, Reply, ServerLine, TlsStarted
from mailsim.transcript.recorder import TranscriptError, is_transcript_text, read_numbered


class ActionKind(enum.StrEnum):
    """What the client side (or the transport on its behalf) did."""

    CONNECT = "connect"
    REFUSE = "refuse"      # connected while the server was full: refused with 421/-ERR/BYE
    SEND = "send"
    EOF = "eof"            # the client went away
    TIMEOUT = "timeout"    # the server's idle timer fired
    SHUTDOWN = "shutdown"  # the server was stopped


# Closed.reason values written by `Session` for closes the client side caused.
CLOSE_ACTIONS = {
    "client closed the connection": ActionKind.EOF,
    "idle timeout": ActionKind.TIMEOUT,
    "server shutdown": ActionKind.SHUTDOWN,
}
CLOSE_REASONS = {kind: reason for reason, kind in CLOSE_ACTIONS.items()}
REFUSED_REASON = "too many connections"
# A timeout or shutdown writes its reply and closes in one go, within this time.
CLOSE_BATCH_SECONDS = 0.001


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    session_id: str
    protocol: Protocol
    timestamp: float
    line: int
    data: bytes = b""
    peer: str = ""
    read_only: bool = False
    tls: bool = False  # CONNECT to an implicit-TLS port: the greeting came after the handshake


@dataclass(slots=True)
class ScriptStep:
    session_id: str
    protocol: Protocol
    line: int
    actions: list[Action] = field(default_factory=list)
    expected: list[Event] = field(default_factory=list)

    @property
    def timestamp(self) -> float:
        return self.actions[0].timestamp if self.actions else 0.0

    def expected_lines(self) -> list[tuple[str, bytes]]:
        return [(e.session_id, e.data) for e in self.expected if isinstance(e, ServerLine)]

    def client_bytes(self) -> bytes:
        return b"".join(a.data for a in self.actions)

    def answered(self, session_id: str) -> bool:
        return any(isinstance(e, (ServerLine, Reply)) and e.session_id == session_id for e in self.expected)


@dataclass(slots=True)
class Script:
    path: str
    header: dict[str, Any]
    steps: list[ScriptStep]
    sessions: dict[str, Protocol]
    event_count: int = 0


def load_script(path: str | Path, *, progress: Callable[[float], None] | None = None) -> Script:
    """Read a recording in either format (told apart by its first line)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8", errors="replace") as stream:
            first = stream.readline()
    except OSError as exc:
        raise TranscriptError(str(path), 0, f"cannot read: {exc.strerror}") from None
    if is_transcript_text(first):
        header, events = read_numbered(path, progress=progress)
        return script_from_events(str(path), header, events)
    from mailsim.transcript.rfcstyle import read_rfc_style

    return read_rfc_style(path)


def script_from_events(path: str, header: dict[str, Any], events: list[tuple[int, Event]]) -> Script:
    """Group recorded events into steps."""
    steps: list[ScriptStep] = []
    sessions: dict[str, Protocol] = {}
    current: ScriptStep | None = None

    def new_step(action: Action) -> ScriptStep:
        step = ScriptStep(action.session_id, action.protocol, action.line, [action])
        steps.append(step)
        return step

    def known(number: int, event: Event) -> Protocol:
        protocol = sessions.get(event.session_id)
        if protocol is None:
            raise TranscriptError(
                path, number, f"session {event.session_id!r} has no 'connected' event: it began before the recording"
            )
        return protocol

    for number, event in events:
        if isinstance(event, Connected):
            if event.session_id in sessions:
                raise TranscriptError(path, number, f"session {event.session_id!r} connects twice")
            sessions[event.session_id] = event.protocol
            current = new_step(
                Action(ActionKind.CONNECT, event.session_id, event.protocol, event.timestamp, number,
                       peer=event.peer, read_only=event.read_only)
            )
        elif isinstance(event, ClientLine):
            protocol = known(number, event)
            action = Action(ActionKind.SEND, event.session_id, protocol, event.timestamp, number, data=event.data)
            if current is not None and current.session_id == event.session_id and not current.answered(event.session_id) \
                    and current.actions[-1].kind is ActionKind.SEND:
                current.actions.append(action)
            else:
                current = new_step(action)
        elif isinstance(event, Closed) and event.reason in CLOSE_ACTIONS:
            protocol = known(number, event)
            kind = CLOSE_ACTIONS[event.reason]
            moved: list[Event] = []
            if kind is not ActionKind.EOF and current is not None:
                moved = _take_last_reply(current, event)
            current = new_step(Action(kind, event.session_id, protocol, event.timestamp, number))
            current.expected.extend(moved)
            current.expected.append(event)
        else:
            known(number, event)
            if current is None:  # pragma: no cover - known() raised already
                continue
            if isinstance(event, TlsStarted) and event.implicit:
                first = current.actions[0]
                if first.session_id == event.session_id and first.kind is ActionKind.CONNECT:
                    current.actions[0] = dataclasses.replace(first, tls=True)
            if isinstance(event, Closed) and event.reason == REFUSED_REASON:
                first = current.actions[0]
                if first.session_id == event.session_id and first.kind is ActionKind.CONNECT:
                    current.actions[0] = Action(ActionKind.REFUSE, first.session_id, first.protocol, first.timestamp,
                                                first.line, peer=first.peer, read_only=first.read_only)
            current.expected.append(event)
    return Script(path, header, steps, sessions, len(events))


def _take_last_reply(step: ScriptStep, closed: Closed) -> list[Event]:
    """The trailing events of the closed session in `step` that its timeout or
    shutdown produced (at most one reply, at the time of the close): they were
    recorded after the last input, but answer no client line."""
    taken: list[Event] = []
    index = len(step.expected)
    while index > 0:
        event = step.expected[index - 1]
        if event.session_id != closed.session_id or event.timestamp < closed.timestamp - CLOSE_BATCH_SECONDS:
            break
        if isinstance(event, Reply) and any(isinstance(e, (Reply, ServerLine)) for e in taken):
            break
        taken.append(event)
        index -= 1
    del step.expected[index:]
    taken.reverse()
    return taken
