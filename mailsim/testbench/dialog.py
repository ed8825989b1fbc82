"""A small blocking client for scripted dialogs with a student's server.

It sends lines and reads whole replies the way each protocol frames them (SMTP's
`250-` continuation lines, POP3's multi-line answers ending in a lone dot, IMAP's
tagged completions and `{n}` literals), always with a timeout, and keeps the
exchange as `C:`/`S:` lines. A server that hangs, closes or cannot be reached raises
`DialogError` with what happened, never anything else.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from mailsim.events import Protocol
from mailsim.testbench.conversation import mask_secret

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r?\n$")
_SMTP_LAST = re.compile(rb"^\d{3}(?: |\r?\n|$)")
MAX_REPLY = 4 * 1024 * 1024  # octets of one reply kept, at most
SHOWN_LINES = 5  # lines of a multi-line answer kept in the transcript


class DialogError(Exception):
    """The dialog could not go on: `kind` is timeout, closed, too-long or unreachable."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ServerReply:
    lines: tuple[bytes, ...]  # as received, line ends included
    status: str               # "250", "+OK", "-ERR", "OK", "NO", "BAD", "+"
    body: bytes = b""         # a POP3 multi-line answer's content, dot-unstuffed

    @property
    def text(self) -> str:
        return b"".join(self.lines).decode("utf-8", errors="replace")


class Dialog:
    def __init__(self, protocol: Protocol, host: str, port: int, timeout: float, *, secrets: tuple[str, ...] = ()) -> None:
        self.protocol = protocol
        self.timeout = timeout
        self.secrets = tuple(s for s in secrets if s)  # never shown in the transcript
        self.transcript: list[str] = []
        self._buffer = bytearray()
        self.bare_lf: list[str] = []  # server lines that ended in LF without CR
        self.lines_read = 0
        self._tag = ""  # the IMAP tag of the command in progress
        self._reply_octets = 0
        self._continuing = False
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise DialogError("unreachable", f"no answer from {host}:{port} within {timeout:g} s") from None
        except OSError as exc:
            raise DialogError("unreachable", f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        self._sock.settimeout(timeout)

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Dialog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ---------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send bytes as they are (several lines at once: pipelining)."""
        for line in data.splitlines(keepends=True):
            self.transcript.append("C: " + mask_secret(_visible(line), self.secrets))
            if self.protocol is Protocol.IMAP and not self._continuing:
                self._tag = line.split(b" ", 1)[0].decode("utf-8", errors="replace").strip()
            self._continuing = bool(_LITERAL.search(line))
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise DialogError("closed", f"the server closed the connection ({exc.strerror or exc})") from None

    # -- reading ---------------------------------------------------------------------------

    def read_reply(self, *, multiline: bool = False) -> ServerReply:
        self._reply_octets = 0
        if self.protocol is Protocol.SMTP:
            return self._read_smtp()
        if self.protocol is Protocol.POP3:
            return self._read_pop3(multiline)
        return self._read_imap()

    def expect_close(self) -> bool:
        """Whether the server closes the connection now (reads until EOF or timeout)."""
        self._reply_octets = 0
        try:
            while True:
                self._read_line()
        except DialogError as exc:
            return exc.kind == "closed"

    def _read_smtp(self) -> ServerReply:
        lines = []
        while True:
            line = self._read_line()
            lines.append(line)
            if _SMTP_LAST.match(line) or not re.match(rb"^\d{3}-", line):
                break
        return ServerReply(tuple(lines), lines[-1][:3].decode("ascii", errors="replace"))

    def _read_pop3(self, multiline: bool) -> ServerReply:
        first = self._read_line()
        status = first.split(b" ", 1)[0].strip().decode("ascii", errors="replace")
        lines, body = [first], bytearray()
        if multiline and status == "+OK":
            while True:
                line = self._read_line(log=len(lines) <= SHOWN_LINES)
                lines.append(line)
                if line in (b".\r\n", b".\n"):
                    break
                body += line[1:] if line.startswith(b".") else line
            if len(lines) > SHOWN_LINES + 1:
                self.transcript.append(f"S: … ({len(lines) - SHOWN_LINES - 2} more lines)")
                self.transcript.append("S: " + _visible(lines[-1]))
        return ServerReply(tuple(lines), status, bytes(body))

    def _read_imap(self) -> ServerReply:
        lines = []
        while True:
            line = self._read_line()
            while (literal := _LITERAL.search(line)) is not None:
                line += self._read_exact(int(literal.group(1)))
                line += self._read_line()
            lines.append(line)
            words = line.split(b" ", 2)
            if line.startswith(b"+"):
                return ServerReply(tuple(lines), "+")
            if not self._tag and words[0] == b"*":  # the greeting
                return ServerReply(tuple(lines), _word(words, 1))
            if words[0].decode("utf-8", errors="replace") == self._tag:
                self._continuing = False
                return ServerReply(tuple(lines), _word(words, 1))

    def _read_line(self, *, log: bool = True) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                self._count(len(line))
                self.lines_read += 1
                if not line.endswith(b"\r\n"):
                    self.bare_lf.append(_visible(line))
                if log:
                    self.transcript.append("S: " + _visible(line))
                return line
            self._receive()

    def _read_exact(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._receive()
        chunk = bytes(self._buffer[:count])
        del self._buffer[:count]
        self._count(count)
        self.transcript.append(f"S: … ({count} octets of literal)")
        return chunk

    def _count(self, octets: int) -> None:
        self._reply_octets += octets
        if self._reply_octets > MAX_REPLY:
            raise DialogError("too-long", f"the reply went over {MAX_REPLY} octets")

    def _receive(self) -> None:
        if len(self._buffer) > MAX_REPLY:
            raise DialogError("too-long", f"the reply went over {MAX_REPLY} octets")
        try:
            chunk = self._sock.recv(65536)
        except TimeoutError:
            raise DialogError("timeout", f"the server did not answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise DialogError("closed", f"the connection failed ({exc.strerror or exc})") from None
        if not chunk:
            raise DialogError("closed", "the server closed the connection")
        self._buffer += chunk


def _word(words: list[bytes], index: int) -> str:
    return words[index].strip().decode("utf-8", errors="replace").upper() if len(words) > index else ""


def _visible(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1] + "␊"
    return text
