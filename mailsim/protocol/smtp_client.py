"""The SMTP client side, sans-IO: what a relaying server says to the next hop.

One `SmtpClient` carries one message to one server: it waits for the greeting, says
EHLO (HELO if EHLO is refused), MAIL FROM, one RCPT TO per recipient, DATA, the
dot-stuffed message, QUIT — one command at a time, each sent only after the reply to
the previous one (no PIPELINING: the dialog a student reads is the plain one of RFC
5321 §3.3 and D.1). It reacts to the real replies: a 4xx leaves a recipient for a
later retry, a 5xx fails it for good (RFC 5321 §4.2.1, §4.5.4.1).

Bytes in (`receive_data`, `receive_eof`), bytes out (`data_to_send`), results in
`outcomes`; the same four-verb shape as the server engines, so a transport can wire
one to the other with no socket in between.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from mailsim.store.queue import Outcome


class ClientState(enum.Enum):
    GREETING = "greeting"  # connected; waiting for 220
    EHLO = "ehlo"          # EHLO sent
    HELO = "helo"          # EHLO refused; HELO sent
    MAIL = "mail"          # MAIL FROM sent
    RCPT = "rcpt"          # RCPT TO sent (one per recipient, in turn)
    DATA = "data"          # DATA sent, waiting for 354
    BODY = "body"          # message and final dot sent, waiting for 250
    QUIT = "quit"          # QUIT sent
    DONE = "done"


@dataclass(frozen=True, slots=True)
class ServerReply:
    """A complete reply: the code, the RFC 3463 status if given, and the text (the
    lines of a multiline reply joined by newlines)."""

    code: str
    enhanced: str
    text: str

    @property
    def outcome(self) -> Outcome:
        if self.code.startswith("2") or self.code.startswith("3"):
            return Outcome.DELIVERED
        return Outcome.TRANSIENT if self.code.startswith("4") else Outcome.PERMANENT


@dataclass(frozen=True, slots=True)
class RecipientOutcome:
    recipient: str
    outcome: Outcome
    reply: ServerReply
    stage: str  # the command the deciding reply answered: "RCPT", "DATA", "MAIL", "connection"...


_REPLY_LINE = re.compile(rb"^(?P<code>[2-5]\d\d)(?P<sep>[ -]|$)(?P<text>.*)$")
_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3}) (.*)$")

# Stand-ins for replies the server never gave (it closed the connection).
LOST = ServerReply("421", "4.4.2", "connection lost before the transaction ended")


def dot_stuff(message: bytes) -> bytes:
    """The message as DATA carries it (RFC 5321 §4.5.2): CRLF line ends, a leading
    dot doubled, and the end-of-data line `.` after it."""
    text = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if text and not text.endswith(b"\r\n"):
        text += b"\r\n"
    lines = text.split(b"\r\n")
    stuffed = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
    return stuffed + b".\r\n"


class SmtpClient:
    def __init__(self, helo: str, sender: str, recipients: list[str] | tuple[str, ...], message: bytes) -> None:
        self.helo = helo
        self.sender = sender
        self.recipients = list(recipients)
        self.message = message
        self.state = ClientState.GREETING
        self.outcomes: dict[str, RecipientOutcome] = {}
        self._accepted: list[str] = []
        self._pending_rcpt = 0
        self._buffer = bytearray()
        self._reply_lines: list[tuple[str, str]] = []
        self._out = bytearray()

    # -- the four verbs -----------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        self._buffer += data
        while self.state is not ClientState.DONE:
            end = self._buffer.find(b"\n")
            if end < 0:
                return
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            reply = self._collect(line)
            if reply is not None:
                self._on_reply(reply)

    def receive_eof(self) -> None:
        """The server closed the connection: whatever was not settled is retried."""
        if self.state is ClientState.QUIT:
            self.state = ClientState.DONE
            return
        self._settle_rest(LOST, "connection")
        self.state = ClientState.DONE

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    @property
    def done(self) -> bool:
        return self.state is ClientState.DONE

    # -- replies ----------------------------------------------------------------------

    def _collect(self, line: bytes) -> ServerReply | None:
        """Gather the lines of a (possibly multiline) reply; the last has `code SP`."""
        match = _REPLY_LINE.match(line)
        if match is None:  # not SMTP: treat as a broken server, retry later
            return ServerReply("421", "4.5.0", f"unintelligible reply: {line[:80].decode('utf-8', 'replace')}")
        code = match.group("code").decode()
        self._reply_lines.append((code, match.group("text").decode("utf-8", "replace")))
        if match.group("sep") == b"-":
            return None
        texts = [text for _, text in self._reply_lines]
        self._reply_lines.clear()
        enhanced = ""
        found = _ENHANCED.match(texts[-1])
        if found and found.group(1)[0] == code[0]:
            enhanced = found.group(1)
            texts = [_ENHANCED.sub(r"\2", t) for t in texts]
        return ServerReply(code, enhanced, "\n".join(texts))

    def _on_reply(self, reply: ServerReply) -> None:
        state, ok = self.state, reply.code.startswith("2")
        if state is ClientState.GREETING:
            if reply.code == "220":
                self._send(f"EHLO {self.helo}", ClientState.EHLO)
            else:
                self._fail_all(reply, "connection")
        elif state is ClientState.EHLO:
            if ok:
                self._mail()
            elif reply.code.startswith("5"):  # RFC 5321 §4.1.4: fall back to HELO
                self._send(f"HELO {self.helo}", ClientState.HELO)
            else:
                self._fail_all(reply, "EHLO")
        elif state is ClientState.HELO:
            if ok:
                self._mail()
            else:
                self._fail_all(reply, "HELO")
        elif state is ClientState.MAIL:
            if ok:
                self._next_rcpt()
            else:
                self._fail_all(reply, "MAIL")
        elif state is ClientState.RCPT:
            recipient = self.recipients[self._pending_rcpt]
            if ok:
                self._accepted.append(recipient)
            else:
                self.outcomes[recipient] = RecipientOutcome(recipient, reply.outcome, reply, "RCPT")
            self._pending_rcpt += 1
            self._next_rcpt()
        elif state is ClientState.DATA:
            if reply.code == "354":
                self._out += dot_stuff(self.message)
                self.state = ClientState.BODY
            else:
                self._fail_all(reply, "DATA")
        elif state is ClientState.BODY:
            for recipient in self._accepted:
                outcome = Outcome.DELIVERED if ok else reply.outcome
                self.outcomes[recipient] = RecipientOutcome(recipient, outcome, reply, "DATA")
            self._send("QUIT", ClientState.QUIT)
        elif state is ClientState.QUIT:
            self.state = ClientState.DONE

    def _mail(self) -> None:
        self._send(f"MAIL FROM:<{self.sender}>", ClientState.MAIL)

    def _next_rcpt(self) -> None:
        if self._pending_rcpt < len(self.recipients):
            self._send(f"RCPT TO:<{self.recipients[self._pending_rcpt]}>", ClientState.RCPT)
        elif self._accepted:
            self._send("DATA", ClientState.DATA)
        else:  # every recipient refused: nothing to send (RFC 5321 §3.3)
            self._send("QUIT", ClientState.QUIT)

    def _fail_all(self, reply: ServerReply, stage: str) -> None:
        self._settle_rest(reply, stage)
        self._send("QUIT", ClientState.QUIT)

    def _settle_rest(self, reply: ServerReply, stage: str) -> None:
        outcome = Outcome.TRANSIENT if reply.outcome is Outcome.DELIVERED else reply.outcome
        for recipient in self.recipients:
            if recipient not in self.outcomes:
                self.outcomes[recipient] = RecipientOutcome(recipient, outcome, reply, stage)

    def _send(self, line: str, state: ClientState) -> None:
        self._out += line.encode("utf-8") + b"\r\n"
        self.state = state
