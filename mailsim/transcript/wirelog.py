"""The live wire log of `mailsim serve`: one line per event, `C:`/`S:` like an RFC.

    21:30:00.120 tcp-smtp-1 * connected from 127.0.0.1:50312
    21:30:00.121 tcp-smtp-1 S: 220 mailsim.test ESMTP mailsim ready
    21:30:00.125 tcp-smtp-1 C: EHLO client.example
"""

from __future__ import annotations

from datetime import datetime
from typing import IO

from mailsim.events import (
    ClientLine, Closed, Connected, Delivered, Event, Note, RelayHop, ReplyClass, ServerLine, StateChanged, TlsStarted,
)
from mailsim.protocol.classify import classify_server_line

_RESET = "\x1b[0m"
_COLOURS: dict[object, str] = {
    "client": "\x1b[1;36m",
    "meta": "\x1b[2m",
    ReplyClass.SUCCESS: "\x1b[32m",
    ReplyClass.INTERMEDIATE: "\x1b[33m",
    ReplyClass.TRANSIENT: "\x1b[35m",
    ReplyClass.PERMANENT: "\x1b[31m",
    ReplyClass.BAD: "\x1b[1;31m",
    ReplyClass.DATA: "\x1b[34m",
    ReplyClass.NEGATIVE: "\x1b[31m",
    ReplyClass.CLOSING: "\x1b[2m",
}


def printable(data: bytes) -> str:
    """A wire line for a terminal: CRLF dropped, control bytes made visible."""
    text = data.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")
    return "".join(c if c.isprintable() or c == "\t" else f"\\x{ord(c):02x}" for c in text)


class WireLog:
    def __init__(self, stream: IO[str], *, colour: bool = False) -> None:
        self.stream = stream
        self.colour = colour

    def __call__(self, event: Event) -> None:
        line = self.format(event)
        if line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()

    def format(self, event: Event) -> str | None:
        stamp = datetime.fromtimestamp(event.timestamp).strftime("%H:%M:%S.%f")[:-3]
        prefix = f"{stamp} {event.session_id}"
        if isinstance(event, ClientLine):
            # Passwords and AUTH responses masked: this log is read by others.
            return f"{prefix} {self._paint('client', 'C: ' + printable(event.shown))}"
        if isinstance(event, ServerLine):
            kind = classify_server_line(event.protocol, event.data)
            return f"{prefix} {self._paint(kind, 'S: ' + printable(event.data))}"
        if isinstance(event, Connected):
            text = f"* {event.protocol.value.upper()} connected from {event.peer or 'console'}"
            return f"{prefix} {self._paint('meta', text)}"
        if isinstance(event, Closed):
            return f"{prefix} {self._paint('meta', f'* closed: {event.reason}')}"
        if isinstance(event, StateChanged):
            return f"{prefix} {self._paint('meta', f'* state {event.old} -> {event.new} ({event.command})')}"
        if isinstance(event, Delivered):
            where = "outgoing queue (simulated relay)" if event.relayed else f"{event.account}/{event.mailbox} UID {event.uid}"
            text = f"* delivered {event.queue_id} for <{event.recipient}> to {where}"
            return f"{prefix} {self._paint('meta', text)}"
        if isinstance(event, TlsStarted):
            how = "implicit TLS" if event.implicit else "STARTTLS"
            text = f"* TLS started ({how}): {event.version} {event.cipher}; certificate {event.subject} SHA-256 {event.fingerprint}"
            return f"{prefix} {self._paint('meta', text + '; the wire is encrypted from here on')}"
        if isinstance(event, Note) and event.key.startswith("tls."):
            details = ", ".join(f"{k}={v}" for k, v in event.params)
            return f"{prefix} {self._paint('meta', f'* {event.key}' + (f' ({details})' if details else ''))}"
        if isinstance(event, RelayHop):
            text = f"* relay {event.queue_id} for <{event.recipient}>: {event.client_host} -> {event.server_host} (attempt {event.attempt})"
            return f"{prefix} {self._paint('meta', text)}"
        return None

    def _paint(self, kind: object, text: str) -> str:
        colour = _COLOURS.get(kind) if self.colour else None
        return f"{colour}{text}{_RESET}" if colour else text
