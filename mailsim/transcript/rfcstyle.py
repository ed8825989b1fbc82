"""Transcripts in the style of RFCs and textbooks: `C:` and `S:` lines.

    # SMTP, one recipient refused
    S: 220 mailsim.test ESMTP mailsim ready
    C: EHLO client.example
    S: 250-mailsim.test
    ...

An example pasted from an RFC or a book replays as is (the protocol is told from the
greeting or the first command). The format:

- `C: text` is a line the client sent, `S: text` a line the server sent, each ending
  in CRLF; `C:`/`S:` alone is an empty line. IMAP tags are simply part of the line.
- `C= base64` / `S= base64` carry bytes exactly (no CRLF added): used on export for
  anything a text line cannot show faithfully (bare LF, control bytes, trailing blanks,
  non-UTF-8).
- `#` starts a comment; blank lines are ignored.
- `@mailsim {json}` (first line, optional) is the JSON Lines header: the starting world.
- `@session NAME PROTOCOL [PEER]` opens a session (a connection); naming an open
  session again switches to it, so several sessions can interleave.
- `@refused NAME PROTOCOL [PEER]` a connection the server refused as too busy.
- `@time SECONDS` sets the clock (Unix time) for the lines that follow.
- `@close eof|timeout|shutdown` the client went away, the server's idle timer fired,
  or the server was stopped.

Export writes the client side losslessly; server lines are kept for comparison.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from mailsim.events import Event, Protocol, ServerLine
from mailsim.transcript.recorder import HEADER_KEY, READABLE_VERSIONS, SCHEMA_VERSION, TranscriptError
from mailsim.transcript.script import Action, ActionKind, CLOSE_REASONS, Script, ScriptStep

if TYPE_CHECKING:
    from mailsim.transcript.replay import Replay

DEFAULT_TIME = 1_790_000_000.0
_PROTOCOL_WORDS = {
    "EHLO": Protocol.SMTP, "HELO": Protocol.SMTP, "MAIL": Protocol.SMTP,
    "USER": Protocol.POP3, "APOP": Protocol.POP3, "CAPA": Protocol.POP3, "STAT": Protocol.POP3,
}
_IMAP_COMMAND = re.compile(r"^\S+ (LOGIN|CAPABILITY|AUTHENTICATE|SELECT|EXAMINE|NOOP|STARTTLS)\b", re.I)


def guess_protocol(kind: str, text: str) -> Protocol | None:
    """Which protocol a session speaks, from its first line."""
    if kind == "S":
        if re.match(r"^2\d\d[ -]", text):
            return Protocol.SMTP
        if text.startswith(("+OK", "-ERR")):
            return Protocol.POP3
        if text.upper().startswith(("* OK", "* PREAUTH", "* BYE")):
            return Protocol.IMAP
        return None
    word = text.split(" ", 1)[0].upper()
    if word in _PROTOCOL_WORDS:
        return _PROTOCOL_WORDS[word]
    if _IMAP_COMMAND.match(text):
        return Protocol.IMAP
    return None


# -- reading ----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.header: dict[str, Any] = {HEADER_KEY: SCHEMA_VERSION, "source": "rfc-style"}
        self.steps: list[ScriptStep] = []
        self.sessions: dict[str, Protocol] = {}
        self.current: str | None = None
        self.time = DEFAULT_TIME
        self.step: ScriptStep | None = None
        self.pending_first: tuple[int, str, bytes] | None = None  # an implicit session's opening

    def fail(self, number: int, message: str) -> NoReturn:
        raise TranscriptError(self.path, number, message)

    def open(self, number: int, name: str, protocol: Protocol, peer: str = "", refused: bool = False) -> None:
        if name in self.sessions:
            if refused:
                self.fail(number, f"session {name!r} is already open")
            self.current = name
            return
        self.sessions[name] = protocol
        self.current = name
        kind = ActionKind.REFUSE if refused else ActionKind.CONNECT
        self.step = ScriptStep(name, protocol, number, [Action(kind, name, protocol, self.time, number, peer=peer or "console")])
        self.steps.append(self.step)

    def implicit(self, number: int, kind: str, text: str) -> None:
        protocol = guess_protocol(kind, text)
        if protocol is None:
            self.fail(number, "cannot tell the protocol from this line; start with '@session NAME smtp|pop3|imap'")
        self.open(number, f"{protocol.value}-1", protocol)

    def directive(self, number: int, text: str) -> None:
        word, _, rest = text[1:].partition(" ")
        args = rest.split()
        if word == "mailsim":
            if self.steps or number != self.first_content:
                self.fail(number, "'@mailsim' must come first")
            try:
                header = json.loads(rest)
            except json.JSONDecodeError as exc:
                self.fail(number, f"'@mailsim' header is not valid JSON ({exc.msg}, column {exc.colno + 9})")
            if not isinstance(header, dict) or header.get(HEADER_KEY) not in READABLE_VERSIONS:
                self.fail(number, f"'@mailsim' header needs {HEADER_KEY!r}: {SCHEMA_VERSION}")
            self.header = header
        elif word in ("session", "refused"):
            if not 2 <= len(args) <= 3:
                self.fail(number, f"expected '@{word} NAME smtp|pop3|imap [PEER]'")
            try:
                protocol = Protocol(args[1].lower())
            except ValueError:
                self.fail(number, f"unknown protocol {args[1]!r} (smtp, pop3 or imap)")
            if args[0] in self.sessions and self.sessions[args[0]] is not protocol:
                self.fail(number, f"session {args[0]!r} speaks {self.sessions[args[0]].value}, not {protocol.value}")
            self.open(number, args[0], protocol, args[2] if len(args) > 2 else "", refused=word == "refused")
        elif word == "time":
            try:
                self.time = float(rest)
            except ValueError:
                self.fail(number, f"'@time' needs seconds since the epoch, not {rest!r}")
        elif word == "close":
            kinds = {k.value: k for k in CLOSE_REASONS}
            if rest.strip() not in kinds:
                self.fail(number, "expected '@close eof|timeout|shutdown'")
            if self.current is None:
                self.fail(number, "'@close' before any session")
            name = self.current
            assert name is not None
            self.step = ScriptStep(name, self.sessions[name], number,
                                   [Action(kinds[rest.strip()], name, self.sessions[name], self.time, number)])
            self.steps.append(self.step)
        else:
            self.fail(number, f"unknown directive '@{word}' (session, refused, time, close, mailsim)")

    def wire(self, number: int, kind: str, data: bytes) -> None:
        if self.current is None:
            self.implicit(number, kind, data.decode("utf-8", "replace").rstrip("\r\n"))
        name = self.current
        assert name is not None
        protocol = self.sessions[name]
        if kind == "C":
            action = Action(ActionKind.SEND, name, protocol, self.time, number, data=data)
            step = self.step
            if step is not None and step.session_id == name and not step.answered(name) \
                    and step.actions[-1].kind is ActionKind.SEND:
                step.actions.append(action)
            else:
                self.step = ScriptStep(name, protocol, number, [action])
                self.steps.append(self.step)
        else:
            if self.step is None:  # pragma: no cover - a session opens with a step
                self.fail(number, "a server line before any session")
            assert self.step is not None
            self.step.expected.append(ServerLine(name, self.time, protocol, data))

    def read(self, text: str) -> Script:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.first_content = next((n for n, l in enumerate(lines, 1) if l.strip() and not l.startswith("#")), 0)
        for number, raw in enumerate(lines, start=1):
            line = raw[:-1] if raw.endswith("\r") else raw
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("@"):
                self.directive(number, line)
                continue
            marker = line[:2]
            if marker in ("C:", "S:"):
                body = line[2:]
                if body.startswith(" "):
                    body = body[1:]
                self.wire(number, marker[0], body.encode("utf-8") + b"\r\n")
            elif marker in ("C=", "S="):
                try:
                    data = base64.b64decode(line[2:].strip(), validate=True)
                except ValueError:
                    self.fail(number, f"'{marker}' needs base64 bytes")
                self.wire(number, marker[0], data)
            else:
                self.fail(number, "expected 'C: ', 'S: ', '@directive' or '# comment'")
        if not self.steps:
            if not any(line.strip() for line in lines):
                self.fail(1, "empty file: nothing to replay")
            self.fail(max(len(lines), 1), "no 'C:' or 'S:' lines: nothing to replay")
        return Script(self.path, self.header, self.steps, self.sessions,
                      sum(len(s.actions) + len(s.expected) for s in self.steps))


def parse_rfc_style(text: str, path: str = "<text>") -> Script:
    return _Reader(path).read(text)


def read_rfc_style(path: str | Path) -> Script:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TranscriptError(str(path), 0, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise TranscriptError(str(path), line, "not UTF-8 text (use 'C= base64' for raw bytes)") from None
    return parse_rfc_style(text, str(path))


# -- writing ---------------------------------------------------------------------------------


def _wire_lines(marker: str, data: bytes) -> list[str]:
    out = []
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        piece = data[start:] if end < 0 else data[start : end + 1]
        start += len(piece)
        text = None
        if piece.endswith(b"\r\n"):
            try:
                text = piece[:-2].decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is not None and all(c.isprintable() or c == "\t" for c in text) and text == text.rstrip(" \t"):
            out.append(f"{marker}: {text}" if text else f"{marker}:")
        else:
            out.append(f"{marker}= {base64.b64encode(piece).decode('ascii')}")
    return out


def to_rfc_style(script: Script, *, header: bool = True, times: bool = True) -> str:
    """The script as `C:`/`S:` text: client side lossless (bytes, sessions, order,
    times to the second); server lines kept for comparison."""
    out: list[str] = []
    if header:
        meta = {k: v for k, v in script.header.items()}
        meta.setdefault(HEADER_KEY, SCHEMA_VERSION)
        out.append("@mailsim " + json.dumps(meta, ensure_ascii=False, separators=(",", ":")))
    several = len(script.sessions) > 1 or header
    current: str | None = None
    opened: set[str] = set()
    second: int | None = None
    for step in script.steps:
        for index, action in enumerate(step.actions):
            if times and int(action.timestamp) != second:
                second = int(action.timestamp)
                out.append(f"@time {second}")
            if action.kind in (ActionKind.CONNECT, ActionKind.REFUSE):
                word = "session" if action.kind is ActionKind.CONNECT else "refused"
                peer = f" {action.peer}" if action.peer and " " not in action.peer else ""
                if several or action.kind is ActionKind.REFUSE:
                    out.append(f"@{word} {action.session_id} {action.protocol.value}{peer}")
                opened.add(action.session_id)
                current = action.session_id
                continue
            if action.session_id != current:
                out.append(f"@session {action.session_id} {action.protocol.value}")
                current = action.session_id
            if action.kind is ActionKind.SEND:
                out.extend(_wire_lines("C", action.data))
            else:
                out.append(f"@close {action.kind.value}")
        for event in step.expected:
            if not isinstance(event, ServerLine):
                continue
            if event.session_id != current:
                out.append(f"@session {event.session_id} {event.protocol.value}")
                current = event.session_id
            out.extend(_wire_lines("S", event.data))
    return "\n".join(out) + "\n"


def script_to_records(script: Script) -> list[dict[str, Any]]:
    """The script as JSON Lines records (header first): client events, server lines,
    and the closes the client side caused — what a recorder would have written, less
    the server's own bookkeeping (replies, states, notes)."""
    from mailsim.events import ClientLine, Closed, Connected

    records: list[dict[str, Any]] = [dict(script.header)]
    for step in script.steps:
        for action in step.actions:
            event: Event
            if action.kind in (ActionKind.CONNECT, ActionKind.REFUSE):
                event = Connected(action.session_id, action.timestamp, action.protocol, action.peer, action.read_only)
            elif action.kind is ActionKind.SEND:
                event = ClientLine(action.session_id, action.timestamp, action.protocol, action.data)
            else:
                continue  # written with the server's events below, after what it said
            records.append(event.to_record())
        closing = [a for a in step.actions if a.kind in CLOSE_REASONS]
        for event in step.expected:
            records.append(event.to_record())
        for action in closing:
            if not any(isinstance(e, Closed) and e.session_id == action.session_id for e in step.expected):
                records.append(Closed(action.session_id, action.timestamp, action.protocol, CLOSE_REASONS[action.kind]).to_record())
        for action in step.actions:
            if action.kind is ActionKind.REFUSE and not any(isinstance(e, Closed) for e in step.expected):
                records.append(Closed(action.session_id, action.timestamp, action.protocol, "too many connections").to_record())
    return records


def write_jsonl(script: Script, path: str | Path) -> None:
    with Path(path).open("w", encoding="utf-8") as stream:
        for record in script_to_records(script):
            stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def rfc_style_of_replay(replay: "Replay", *, header: bool = False, times: bool = True) -> str:
    """The replayed client side with today's server answers as the expected lines: how
    an example is refreshed after a deliberate change of the server's wording."""
    steps = []
    for original, result in zip(replay.script.steps, replay.steps):
        answered: list[Event] = [e for e in result.events if isinstance(e, ServerLine)]
        steps.append(ScriptStep(original.session_id, original.protocol, original.line, list(original.actions), answered))
    script = Script(replay.script.path, replay.script.header, steps, replay.script.sessions)
    return to_rfc_style(script, header=header, times=times)
