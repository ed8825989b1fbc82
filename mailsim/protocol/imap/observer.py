"""Watches an IMAP conversation and says what `ImapSession` would (see `observer.py`).

Commands are matched to their completions by tag (RFC 3501 §2.2.1), so pipelined
commands and answers in any order are followed. A command line ending in `{n}` waits
for the server's "+" before its literal is read; `{n+}` (LITERAL+, RFC 7888) is
followed by its octets at once. AUTHENTICATE reads a SASL response after each "+";
IDLE (RFC 2177) waits for "+" and then reads the line that ends it. Server responses
are read whole, literals included (a FETCH body), and after OK to STARTTLS the rest is
encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

import re

from mailsim.events import LineKind, Protocol, ReplyClass
from mailsim.protocol.classify import IMAP_REPLY_CLASSES
from mailsim.protocol.imap.mutf7 import decode_mailbox
from mailsim.protocol.imap.parser import MailboxArgs, ParseError, literal_at_end, parse_command, tag_and_command
from mailsim.protocol.imap.session import ImapReplies, ImapSession, ImapState
from mailsim.protocol.observer import DialogObserver, Gate, wire_text
from mailsim.protocol.seen import fetch_facts

S = ImapState
_NUMBERED = re.compile(r"^(\d+) (EXISTS|EXPUNGE|FETCH)\b", re.IGNORECASE)
_LISTED = re.compile(r'^(?:LIST|LSUB) \([^)]*\) (?:NIL|"(?:[^"\\]|\\.)*") (.+)$', re.IGNORECASE)
_STATUS_MESSAGES = re.compile(r'^STATUS (.+) \(.*\bMESSAGES (\d+)', re.IGNORECASE)
_STATUS = {token: reply_class for token, reply_class in IMAP_REPLY_CLASSES.items() if token != "+"}


@dataclass
class SentCommand:
    tag: str
    verb: str        # "FETCH", "UID FETCH"
    text: bytes      # the whole command as sent, literals included


class ImapObserver(DialogObserver):
    protocol = Protocol.IMAP
    engine = ImapSession
    catalog = ImapReplies
    REPLY_KEY_HINTS = {"": ("greeting",), "LOGOUT": ("logout-bye", "logout-ok"), "AUTHENTICATE": ("login-ok",)}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.commands: dict[str, SentCommand] = {}  # sent, not yet completed, by tag
        self.last_command = ""
        self._greeted = False
        self._reading: SentCommand | None = None  # a command whose lines are still coming
        self._literal_left = 0
        self._mode = "command"  # the client's next line: command, sasl, done
        self._gated: SentCommand | None = None  # the command the gate waits on
        self._idle_from = S.AUTHENTICATED
        self._response = bytearray()  # a server response being read
        self._response_literal = 0
        self._opening = ""  # the mailbox a SELECT/EXAMINE is opening

    # -- the client ------------------------------------------------------------------

    def _client_line_in(self) -> bool:
        if self._literal_left and self.gate is Gate.OPEN:
            chunk = self._client.read_exact(min(self._literal_left, self._client.buffered))
            if not chunk:
                return False
            self._literal_left -= len(chunk)
            command = self._reading
            assert command is not None
            command.text += chunk
            self._client_line(chunk, LineKind.LITERAL, command.verb, command.tag)
            return True
        if self.gate is not Gate.OPEN:
            return False
        line = self._client.next_line()
        if line is None:
            return False
        if self._mode in ("sasl", "done") and self._gated is not None:
            gated = self._gated
            if self._mode == "sasl":
                self._client_line(line.raw, LineKind.SASL, "AUTHENTICATE", gated.tag)
                self.gate = Gate.SASL
            else:
                self._client_line(line.raw, LineKind.DONE, "IDLE", gated.tag)
                self._mode, self._gated = "command", None
                self._move(self._idle_from, "IDLE")
            return True
        command = self._reading
        if command is None:
            tag, verb = tag_and_command(line.data)
            command = SentCommand(tag, verb, b"")
            if tag:
                self.commands[tag] = command
        command.text += line.raw
        self._client_line(line.raw, LineKind.COMMAND, command.verb, command.tag)
        mark = literal_at_end(line.data)
        if mark is not None:
            self._reading, self._literal_left = command, mark.size
            if mark.synchronizing:
                self.gate, self._gated = Gate.LITERAL, command
            return True
        self._reading = None
        self.last_command = command.verb
        if command.verb in ("SELECT", "EXAMINE"):
            self._opening = _mailbox_named(command.text) or ""
        waits = {"AUTHENTICATE": Gate.SASL, "IDLE": Gate.IDLE, "STARTTLS": Gate.TLS}.get(command.verb)
        if waits is not None:
            self.gate, self._gated = waits, command
        return True

    # -- the server ------------------------------------------------------------------

    def _server_unit(self) -> bool:
        while True:
            if self._response_literal:
                chunk = self._server.read_exact(self._response_literal)
                if chunk is None:
                    return False
                self._response += chunk
                self._response_literal = 0
            line = self._server.next_line()
            if line is None:
                return False
            self._response += line.raw
            mark = literal_at_end(line.data)
            if mark is None:
                break
            self._response_literal = mark.size
        response, self._response = bytes(self._response), bytearray()
        self._server_line(response)
        self._understand(response)
        return True

    def _understand(self, response: bytes) -> None:
        first = response.split(b"\n", 1)[0]
        text = wire_text(first)
        if text == "+" or text.startswith("+ "):
            self._continuation(text[2:])
            return
        tag, _, rest = text.partition(" ")
        status, _, said = rest.partition(" ")
        status = status.upper()
        if tag == "*":
            self._untagged(status, said, first)
            self._learn(rest, response)
            return
        command = self.commands.pop(tag, None)
        if command is None:
            self._not_allowed("imap-unknown-tag", first)
        elif status not in ("OK", "NO", "BAD"):
            self._not_allowed("imap-status", first)
        else:
            self._completed(command, status, said)

    def _continuation(self, text: str) -> None:
        gated = self._gated
        verb = gated.verb if gated is not None else self.last_command
        self._reply("+", ReplyClass.INTERMEDIATE, verb, text)
        if gated is None or self.gate is Gate.OPEN:
            self._not_allowed("imap-unexpected-continuation", b"+ " + text.encode())
            return
        if self.gate is Gate.LITERAL:
            self._gated = None
        elif self.gate is Gate.SASL:
            self._mode = "sasl"
        elif self.gate is Gate.IDLE:
            self._idle_from = self.state
            self._follow("IDLE")
            self._mode = "done"
        self.gate = Gate.OPEN

    def _untagged(self, status: str, said: str, line: bytes) -> None:
        if status not in _STATUS:
            if not self._greeted:
                self._not_allowed("imap-greeting", line)
            return  # untagged data (CAPABILITY, EXISTS, FETCH ...): no completion
        reply_class = ReplyClass.DATA if status == "OK" else _STATUS[status]
        command = "" if not self._greeted else self._current()
        self._reply(status, reply_class, command, said)
        if not self._greeted:
            self._greeted = True
            if status == "PREAUTH":
                self._move(S.AUTHENTICATED, "")
        if status == "BYE" and command != "LOGOUT":
            self._move(S.LOGOUT, command)

    def _current(self) -> str:
        """The command being answered: the oldest still open, else the last one sent."""
        return next(iter(self.commands.values())).verb if self.commands else self.last_command

    def _completed(self, command: SentCommand, status: str, said: str) -> None:
        self._reply(status, _STATUS[status], command.verb, said, tag=command.tag)
        if self._gated is command:
            self.gate, self._gated, self._mode = Gate.OPEN, None, "command"
            if self._reading is command:  # a refused literal never comes
                self._reading, self._literal_left = None, 0
        verb = command.verb.split(" ", 1)[0]
        if verb in ("SELECT", "EXAMINE") and self.state is S.SELECTED:
            self._move(S.AUTHENTICATED, command.verb)  # RFC 3501 §6.3.1: even if it fails
        if verb in ("SELECT", "EXAMINE", "CLOSE", "UNSELECT"):
            self.seen.selected = self._opening if status == "OK" and verb in ("SELECT", "EXAMINE") else ""
            self.seen.version += 1
        if status != "OK":
            return
        if verb == "STARTTLS":
            self._tls_go_ahead(verb)
        elif verb == "LOGIN":
            words = command.text.split(b" ", 3)
            self.user = words[2].strip(b'"\r\n').decode("utf-8", "replace") if len(words) > 2 else ""
            self.seen.user = self.user
            self._follow(verb, command.verb)
        elif verb != "IDLE":
            self._follow(verb, command.verb)
            if verb == "LOGOUT":
                self._goodbye = "client logged out"

    def _learn(self, rest: str, response: bytes) -> None:
        """What untagged data says about the mailboxes (LIST, STATUS, EXISTS, EXPUNGE, FETCH)."""
        if (found := _LISTED.match(rest)) is not None:
            self.seen.mailbox(_mailbox_text(found.group(1)))
        elif (found := _STATUS_MESSAGES.match(rest)) is not None:
            self.seen.mailbox(_mailbox_text(found.group(1))).count = int(found.group(2))
        elif (found := _NUMBERED.match(rest)) is not None:
            name = self._opening if self.commands and self._current() in ("SELECT", "EXAMINE") else self.seen.selected
            if not name:
                return
            mailbox, number, what = self.seen.mailbox(name), int(found.group(1)), found.group(2).upper()
            if what == "EXISTS":
                mailbox.count = number
            elif what == "EXPUNGE":
                mailbox.expunge(number)
            else:
                fetch_facts(response, mailbox.message(number))

    def _waiting_for_server(self) -> bool:
        return any(c.verb != "LOGOUT" for c in self.commands.values())


def _mailbox_text(text: str) -> str:
    """A mailbox name as a response writes it (quoted or atom, modified UTF-7), decoded."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    try:
        name = decode_mailbox(text)
    except ValueError:
        name = text
    return "INBOX" if name.upper() == "INBOX" else name


def _mailbox_named(command: bytes) -> str | None:
    try:
        arguments = parse_command(command.rstrip(b"\r\n")).arguments
    except (ParseError, ValueError):
        return None
    return arguments.mailbox if isinstance(arguments, MailboxArgs) else None
