"""A client's conversation as the testbench judges it, built only from Bus events.

The engines already say what happened: which command each reply answers, its class
and key, each state change, each delivery, each teaching note. Grouping those events
into exchanges (what the client sent, what the server answered) is all the judging
rules need; no wire bytes are parsed again except to look at line ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailsim.events import (
    ClientLine,
    Closed,
    Connected,
    DeletionMarked,
    Delivered,
    Event,
    Note,
    Protocol,
    Reply,
    ReplyClass,
    ServerLine,
    StateChanged,
)
from mailsim.protocol.base import split_wire_lines
from mailsim.protocol.registry import ENGINES
from mailsim.store.store import MailStore

# Lines of a block (a DATA body, a RETR answer) shown in an excerpt before "…".
BLOCK_LINES = 4
POSITIVE = (ReplyClass.SUCCESS, ReplyClass.INTERMEDIATE)


@dataclass
class Exchange:
    """What the client sent since the last reply, and the server's answer to it."""

    client: list[bytes] = field(default_factory=list)
    server: list[bytes] = field(default_factory=list)
    reply: Reply | None = None
    state: str = ""  # the session's state when the exchange began
    secrets: tuple[str, ...] = ()  # passwords never shown (the accounts' own)

    @property
    def command(self) -> str:
        return self.reply.command if self.reply is not None else ""

    @property
    def positive(self) -> bool:
        return self.reply is not None and self.reply.reply_class in POSITIVE

    def reply_line(self) -> str:
        """The reply's last line as the client saw it: «550 5.1.1 <x>: no such user here»."""
        for chunk in reversed(self.server):
            lines = [l for l in split_wire_lines(chunk) if l.strip()]
            if lines:
                return _show(lines[-1])
        return self.reply.code if self.reply is not None else ""

    def lines(self) -> list[str]:
        """The exchange as RFC-style `C:`/`S:` lines, long blocks shortened."""
        return [*_excerpt("C", self.client, self.secrets), *_excerpt("S", self.server)]


HIDDEN = "•" * 8
_SECRET = re.compile(r"^(?P<keep>(?:\S+ )?(?:PASS|LOGIN \S+|AUTH(?:ENTICATE)? (?:PLAIN|LOGIN)) )(?P<secret>.+)$", re.IGNORECASE)


def mask_secret(line: str, secrets: tuple[str, ...] = ()) -> str:
    """A client line with its password hidden (PASS, LOGIN, AUTH PLAIN, or any of
    `secrets` wherever it appears, as in an IMAP literal): reports are handed in and
    printed in CI logs."""
    for secret in secrets:
        if secret:
            line = line.replace(secret, HIDDEN)
    found = _SECRET.match(line)
    if found is None or found.group("secret").startswith("{"):  # an IMAP literal comes on the next line
        return line
    return found.group("keep") + HIDDEN


def _show(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1] + "␊"  # a bare LF, made visible
    return text


def _excerpt(side: str, chunks: list[bytes], secrets: tuple[str, ...] = ()) -> list[str]:
    out: list[str] = []
    for chunk in chunks:
        lines = split_wire_lines(chunk)
        shown = lines if len(lines) <= BLOCK_LINES + 1 else lines[:BLOCK_LINES]
        out += [f"{side}: {mask_secret(_show(line), secrets) if side == 'C' else _show(line)}" for line in shown]
        if len(shown) < len(lines):
            out.append(f"{side}: … ({len(lines) - len(shown)} more lines)")
    return out


@dataclass
class Conversation:
    """One client connection, from Connected to Closed."""

    number: int
    session_id: str
    protocol: Protocol
    peer: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    notes: list[tuple[Note, int]] = field(default_factory=list)  # with the exchange they came in
    delivered: list[Delivered] = field(default_factory=list)
    marks: list[DeletionMarked] = field(default_factory=list)
    client_lines: list[bytes] = field(default_factory=list)
    state: str = ""
    closed_reason: str = ""
    closed_in: str = ""  # the state the session was in when it closed
    last_heard: float = 0.0  # when the client last sent something (or connected)
    closed_at: float = 0.0
    secrets: tuple[str, ...] = ()

    @property
    def closed(self) -> bool:
        return bool(self.closed_reason)

    def transcript(self) -> tuple[str, ...]:
        """The whole conversation as C:/S: lines (long blocks shortened, passwords hidden)."""
        return tuple(line for exchange in self.exchanges for line in exchange.lines())

    @property
    def commands(self) -> list[Exchange]:
        """Exchanges the client started (not the greeting, not pushed updates)."""
        return [e for e in self.exchanges if e.client and e.reply is not None]

    def add(self, event: Event) -> None:
        current = self.exchanges[-1] if self.exchanges else None
        if current is None or current.reply is not None and self._starts_new(event):
            current = Exchange(state=self.state, secrets=self.secrets)
            self.exchanges.append(current)
        if isinstance(event, Connected):
            self.peer = event.peer
            self.last_heard = event.timestamp
        elif isinstance(event, ClientLine):
            current.client.append(event.data)
            self.client_lines.append(event.data)
            self.last_heard = event.timestamp
        elif isinstance(event, ServerLine):
            current.server.append(event.data)
        elif isinstance(event, Reply):
            if _completes(event):
                current.reply = event
        elif isinstance(event, StateChanged):
            self.state = event.new
        elif isinstance(event, Note):
            self.notes.append((event, len(self.exchanges) - 1))
        elif isinstance(event, Delivered):
            self.delivered.append(event)
        elif isinstance(event, DeletionMarked):
            self.marks.append(event)
        elif isinstance(event, Closed):
            self.closed_in = self.state
            self.closed_reason = event.reason
            self.closed_at = event.timestamp

    @staticmethod
    def _starts_new(event: Event) -> bool:
        return isinstance(event, (ClientLine, ServerLine))


def _completes(reply: Reply) -> bool:
    """Does this reply end an exchange? Not IMAP's untagged data and status lines
    and BYE (they come before the tagged completion), except the greeting and the
    answer to a line with no tag."""
    if reply.protocol is not Protocol.IMAP:
        return True
    return bool(reply.tag) or reply.code == "+" or reply.command == ""


class Collector:
    """A Bus subscriber that sorts events into conversations as they happen."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = secrets
        self.conversations: dict[str, Conversation] = {}
        self.on_closed: list = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, Delivered | DeletionMarked) and event.session_id not in self.conversations:
            return
        conversation = self.conversations.get(event.session_id)
        if conversation is None:
            if not isinstance(event, Connected):
                return
            conversation = Conversation(len(self.conversations) + 1, event.session_id, event.protocol, secrets=self.secrets)
            conversation.state = str(ENGINES[event.protocol].initial_state.value)
            self.conversations[event.session_id] = conversation
        conversation.add(event)
        if isinstance(event, Closed):
            for callback in self.on_closed:
                callback(conversation)

    def finished(self) -> list[Conversation]:
        return [c for c in self.conversations.values() if c.closed]

    def open(self) -> list[Conversation]:
        return [c for c in self.conversations.values() if not c.closed]


def passwords(store: MailStore) -> tuple[str, ...]:
    """The store's passwords, to keep out of every report."""
    return tuple(account.password for account in store.accounts.values() if account.password)


def conversations_from_events(events: list[Event], secrets: tuple[str, ...] = ()) -> list[Conversation]:
    collector = Collector(secrets)
    for event in events:
        collector(event)
    return list(collector.conversations.values())
