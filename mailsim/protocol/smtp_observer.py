"""Watches an SMTP conversation and says what `SmtpSession` would (see `observer.py`).

Replies are matched to commands in order (RFC 2920: a pipelining server answers in the
order it received). DATA waits for 354 before the message text is read, an AUTH
exchange reads a SASL response after each 334, BDAT (RFC 3030) is followed by exactly
its octets, and after a 220 to STARTTLS the rest is encrypted.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from mailsim.events import LineKind, Protocol, ReplyClass
from mailsim.protocol.base import command_of
from mailsim.protocol.observer import DialogObserver, Gate, wire_text
from mailsim.protocol.smtp import SmtpReplies, SmtpSession, SmtpState, split_end_of_data

S = SmtpState
_REPLY = re.compile(r"^(\d{3})([ -]|$)(.*)$", re.DOTALL)
_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})(?: |$)")
_BDAT = re.compile(r"^(\d+)(?: +(LAST))?$", re.IGNORECASE)
_PATH = re.compile(r"<([^<>]*)>")


@dataclass
class SeenEnvelope:
    """The mail transaction as far as the dialog shows it (the DATA editor's template)."""

    sender: str | None = None
    recipients: list[str] = field(default_factory=list)


class SmtpObserver(DialogObserver):
    protocol = Protocol.SMTP
    engine = SmtpSession
    catalog = SmtpReplies
    # the replies each command gets, for servers whose words differ from mailsim's
    REPLY_KEY_HINTS = {
        "MAIL": ("sender-ok",), "RCPT": ("recipient-ok", "no-such-user", "relay-denied"),
        "DATA": ("start-data", "queued"), "QUIT": ("bye",), "NOOP": ("ok",), "RSET": ("ok",),
        "AUTH": ("auth-challenge", "auth-ok", "auth-failed"), "": ("greeting",),
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.envelope = SeenEnvelope()
        self._pending: deque[tuple[str, str]] = deque()  # commands sent, not yet answered
        self._greeted = False
        self._mode = "command"      # what the client's next line is: command, text, sasl
        self._texts: list[str] = []  # the lines of a reply being read
        self._after_crlf = True
        self._bdat_left = 0

    # -- the client ------------------------------------------------------------------

    def _client_line_in(self) -> bool:
        if self._bdat_left:
            chunk = self._client.read_exact(min(self._bdat_left, self._client.buffered))
            if not chunk:
                return False
            self._bdat_left -= len(chunk)
            self._client_line(chunk, LineKind.DATA, "BDAT")
            return True
        if self.gate is not Gate.OPEN:
            return False
        if self._mode == "text":
            return self._message_text()
        line = self._client.next_line()
        if line is None:
            return False
        if self._mode == "sasl":
            self._client_line(line.raw, LineKind.SASL, "AUTH")
            self.gate = Gate.SASL
            return True
        verb, argument = command_of(line)
        self._client_line(line.raw, LineKind.COMMAND, verb)
        argument = argument.strip(" \t")
        self._pending.append((verb, argument))
        if verb == "DATA":
            self.gate = Gate.DATA
        elif verb == "AUTH":
            self.gate = Gate.SASL
        elif verb == "STARTTLS":
            self.gate = Gate.TLS
        elif verb == "BDAT":
            match = _BDAT.match(argument)
            self._bdat_left = int(match.group(1)) if match else 0
        return True

    def _message_text(self) -> bool:
        block, _ = self._client.peek_complete()
        if not block:
            return False
        body, consumed, ended = split_end_of_data(block, self._after_crlf)
        if body:
            self._client_line(body, LineKind.DATA, "DATA")
            self._after_crlf = body.endswith(b"\r\n")
        self._client.consume(consumed)
        if ended:
            self._client_line(b".\r\n", LineKind.END_OF_DATA, "DATA")
            self._mode = "command"
            self._move(S.GREETED, "DATA")  # the engine ends the transaction at the dot
            self.gate = Gate.DATA  # the verdict on the message comes next
        return True

    # -- the server ------------------------------------------------------------------

    def _server_unit(self) -> bool:
        line = self._server.next_line()
        if line is None:
            return False
        self._server_line(line.raw)
        match = _REPLY.match(wire_text(line.raw))
        if match is None:
            self._not_allowed("smtp-reply-syntax", line.raw)
            return True
        code, separator, text = match.groups()
        self._texts.append(text)
        if separator == "-":
            return True
        texts, self._texts = self._texts, []
        enhanced = ""
        found = _ENHANCED.match(texts[0])
        if found is not None and found.group(1)[0] == code[0]:
            enhanced = found.group(1)
            texts = [_ENHANCED.sub("", t, count=1) for t in texts]
        self._answer(code, "\n".join(texts), enhanced)
        return True

    def _answer(self, code: str, text: str, enhanced: str) -> None:
        reply_class = ReplyClass.of_smtp(int(code)) if code[0] in "2345" else ReplyClass.PERMANENT
        if code[0] not in "2345":
            self._not_allowed("smtp-reply-code", code.encode())
        if not self._greeted:
            self._greeted = True
            self._reply(code, reply_class, "", text, enhanced=enhanced)
            return
        if not self._pending:
            self._reply(code, reply_class, "", text, enhanced=enhanced)
            if code != "421":  # 421 may come at any time (RFC 5321 §3.8)
                self._not_allowed("reply-without-command", text.encode())
            return
        verb, argument = self._pending[0]
        self._reply(code, reply_class, verb, text, enhanced=enhanced)
        if reply_class is ReplyClass.INTERMEDIATE:
            self._go_ahead(verb, code)
            return
        self._pending.popleft()
        self.gate = Gate.OPEN
        self._mode = "command"
        if verb == "AUTH":
            self._auth_ended(code, argument)
        elif verb == "STARTTLS" and reply_class is ReplyClass.SUCCESS:
            self._tls_go_ahead(verb)
        elif verb == "BDAT" and reply_class is ReplyClass.SUCCESS and argument.upper().endswith("LAST"):
            self._move(S.GREETED, "BDAT")
        elif reply_class is ReplyClass.SUCCESS:
            self._follow(verb)
            self._track_envelope(verb, argument)
            if verb == "QUIT":
                self._goodbye = "client quit"

    def _go_ahead(self, verb: str, code: str) -> None:
        """A 3xx: 354 opens the message text, 334 asks for a SASL response."""
        if verb == "DATA" and code == "354" and self._mode == "command":
            self._follow("DATA")
            self._mode, self._after_crlf, self.gate = "text", True, Gate.OPEN
        elif verb == "AUTH" and code == "334":
            self._move(S.AUTH, "AUTH")
            self._mode, self.gate = "sasl", Gate.OPEN
        else:
            self._pending.popleft()
            self.gate = Gate.OPEN
            self._not_allowed("smtp-unexpected-intermediate", f"{code} after {verb}".encode())

    def _auth_ended(self, code: str, argument: str) -> None:
        """The engine passes through its AUTH state whenever a mechanism was tried."""
        tried = self.state is S.AUTH or code in ("235", "535") or (code == "501" and " " in argument)
        if tried:
            self._move(S.AUTH, "AUTH")
            self._move(S.GREETED, "AUTH")

    def _track_envelope(self, verb: str, argument: str) -> None:
        path = _PATH.search(argument)
        address = path.group(1) if path else argument.partition(":")[2].strip()
        if verb == "MAIL":
            self.envelope = SeenEnvelope(sender=address)
        elif verb == "RCPT":
            self.envelope.recipients.append(address)
        elif verb in ("RSET", "EHLO", "HELO", "DATA"):
            self.envelope = SeenEnvelope()

    def _after_tls(self) -> None:
        self.envelope = SeenEnvelope()  # RFC 3207 §4.2: the client starts over with EHLO

    def _waiting_for_server(self) -> bool:
        return bool(self._pending) and self._pending[0][0] != "QUIT"
