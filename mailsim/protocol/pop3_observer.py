"""Watches a POP3 conversation and says what `Pop3Session` would (see `observer.py`).

Each command gets one status line; after `+OK` to CAPA, LIST or UIDL without an
argument, RETR, TOP or a bare AUTH, a multi-line body follows up to a lone "."
(RFC 1939 §3). An AUTH exchange reads a SASL response after each "+" (RFC 5034), and
after `+OK` to STLS (RFC 2595) the rest is encrypted.
"""

from __future__ import annotations

from collections import deque

from mailsim.events import LineKind, Protocol, ReplyClass
from mailsim.protocol.base import command_of
from mailsim.protocol.classify import POP3_REPLY_CLASSES
from mailsim.protocol.observer import DialogObserver, Gate, wire_text
from mailsim.protocol.seen import subject_from_headers
from mailsim.protocol.pop3 import Pop3Replies, Pop3Session, Pop3State

S = Pop3State
_CLASS = POP3_REPLY_CLASSES


_LEARN_LIMIT = 64 * 1024  # octets of a multi-line answer read for the mailbox view


def _numbers(text: str, count: int) -> list[int]:
    words = text.split()[:count]
    return [int(w) for w in words] if len(words) == count and all(w.isdigit() for w in words) else []


def _multiline(verb: str, argument: str) -> bool:
    """Whether `+OK` to this command is followed by a body ending in "." (RFC 1939, 2449, 5034)."""
    if verb in ("RETR", "TOP", "CAPA"):
        return True
    return verb in ("LIST", "UIDL", "AUTH") and not argument


class Pop3Observer(DialogObserver):
    protocol = Protocol.POP3
    engine = Pop3Session
    catalog = Pop3Replies
    # "+OK 2 1063" is STAT's count and size, or LIST 2's number and size
    # and what each command gets from servers whose words differ from mailsim's
    REPLY_KEY_HINTS = {
        "LIST": ("scan-listing",), "UIDL": ("unique-id",), "USER": ("user-ok",),
        "PASS": ("logged-in", "auth-failed"), "QUIT": ("bye",), "": ("greeting",),
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._pending: deque[tuple[str, str]] = deque()
        self._greeted = False
        self._sasl_turn = False  # a challenge came: the client's next line is a response
        self._given_user = ""
        self._status: tuple[str, str] | None = None  # a +OK whose body is being read
        self._body = bytearray()
        self._whole = bytearray()  # the start of a multi-line answer, for the mailbox view

    # -- the client ------------------------------------------------------------------

    def _client_line_in(self) -> bool:
        if self.gate is not Gate.OPEN:
            return False
        line = self._client.next_line()
        if line is None:
            return False
        if self._sasl_turn:
            self._sasl_turn = False
            self._client_line(line.raw, LineKind.SASL, "AUTH")
            self.gate = Gate.SASL
            return True
        verb, argument = command_of(line)
        argument = argument.strip(" ")
        self._client_line(line.raw, LineKind.COMMAND, verb)
        self._pending.append((verb, argument))
        if verb == "AUTH" and argument:
            self.gate = Gate.SASL
        elif verb == "STLS":
            self.gate = Gate.TLS
        return True

    # -- the server ------------------------------------------------------------------

    def _server_unit(self) -> bool:
        if self._status is not None:
            return self._body_lines()
        line = self._server.next_line()
        if line is None:
            return False
        self._server_line(line.raw)
        text = wire_text(line.raw)
        code, _, rest = text.partition(" ")
        if code not in _CLASS:
            self._not_allowed("pop3-status", line.raw)
            return True
        if not self._greeted:
            self._greeted = True
            self._reply(code, _CLASS[code], "", rest)
            return True
        if not self._pending:
            self._reply(code, _CLASS[code], "", rest)
            self._not_allowed("reply-without-command", line.raw)
            return True
        verb, argument = self._pending[0]
        if code == "+":
            self._challenge(verb, rest)
        elif code == "+OK" and _multiline(verb, argument):
            self._status = (code, rest)
        else:
            self._answered(code, rest)
        return True

    def _body_lines(self) -> bool:
        """The lines of a multi-line answer up to its ".", shown as one block per read."""
        read = False
        while True:
            line = self._server.next_line()
            if line is None:
                break
            read = True
            if line.data == b".":
                self._show_body()
                self._server_line(line.raw)
                code, rest = self._status  # type: ignore[misc]
                self._status = None
                self._answered(code, rest)
                return True
            self._body += line.raw
            if len(self._whole) < _LEARN_LIMIT:
                self._whole += line.raw
        self._show_body()
        return read

    def _show_body(self) -> None:
        if self._body:
            self._server_line(bytes(self._body), content=True)
            self._body.clear()

    def _challenge(self, verb: str, text: str) -> None:
        self._reply("+", ReplyClass.INTERMEDIATE, verb, text)
        if verb != "AUTH":
            self._not_allowed("pop3-unexpected-continuation", f"+ after {verb}".encode())
            return
        self._move(S.AUTH, "AUTH")
        self._sasl_turn, self.gate = True, Gate.OPEN

    def _answered(self, code: str, text: str) -> None:
        verb, argument = self._pending.popleft()
        self._reply(code, _CLASS[code], verb, text)
        body, self._whole = bytes(self._whole), bytearray()
        if code == "+OK" and self.state is S.TRANSACTION:
            self._learn(verb, argument, text, body)
        self.gate = Gate.OPEN
        self._sasl_turn = False
        if verb == "AUTH" and argument:
            # The engine enters AUTH for any mechanism it tries, then logs in from there.
            if self.state is S.AUTH or code == "+OK":
                self._move(S.AUTH, "AUTH")
                self._move(S.AUTHORIZATION, "AUTH")
            if code == "+OK":
                self._move(S.TRANSACTION, "AUTH")
            return
        if code != "+OK":
            return
        if verb == "STLS":
            self._tls_go_ahead(verb)
            return
        if verb == "QUIT":
            self._goodbye = "client quit"
        if verb == "USER":
            self._given_user = argument
        elif verb in ("PASS", "APOP"):
            self.user = self._given_user if verb == "PASS" else argument.partition(" ")[0]
        self._follow(verb)
        if self.state is S.TRANSACTION and not self.seen.selected:
            self.seen.user, self.seen.selected = self.user, "INBOX"
            self.seen.mailbox("INBOX")

    def _after_tls(self) -> None:
        self._given_user = ""  # RFC 2595 §4: what was said before TLS is forgotten

    def _learn(self, verb: str, argument: str, text: str, body: bytes) -> None:
        """What an answer in TRANSACTION says about the maildrop (RFC 1939 §5)."""
        drop = self.seen.mailbox("INBOX")
        if verb == "STAT" and (numbers := _numbers(text, 2)):
            drop.count = numbers[0]
        elif verb in ("LIST", "UIDL"):
            for line in (body.decode("utf-8", "replace").splitlines() if body else [text]):
                number, _, value = line.strip().partition(" ")
                if not number.isdigit() or not value:
                    continue
                message = drop.message(int(number))
                if verb == "LIST" and value.split()[0].isdigit():
                    message.size = int(value.split()[0])
                elif verb == "UIDL":
                    message.uid = value.strip()
        elif verb in ("RETR", "TOP") and argument.split()[0:1] and argument.split()[0].isdigit():
            subject = subject_from_headers(body.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
            if subject is not None:
                drop.message(int(argument.split()[0])).subject = subject
        elif verb == "DELE" and argument.isdigit():
            drop.message(int(argument)).marked = True
        elif verb == "RSET":
            for message in drop.messages.values():
                message.marked = False
        elif verb == "QUIT":  # UPDATE: what was marked is gone
            kept = {n: m for n, m in drop.messages.items() if not m.marked}
            if drop.count is not None:
                drop.count -= len(drop.messages) - len(kept)
            drop.messages = kept

    def _waiting_for_server(self) -> bool:
        return bool(self._pending) and self._pending[0][0] != "QUIT"
