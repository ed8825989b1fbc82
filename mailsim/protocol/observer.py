"""What the three dialog observers share: watch a conversation, say what an engine would.

An engine *is* the server; an observer only hears a conversation's two byte streams
(the client's and the server's, each in order, as a relay or a TCP client sees them)
and emits the events an engine emits for it: client lines with their kind, verb and
tag, server lines, replies with the command they complete and their class, state
changes by the engine's own transition table, and notes. So the views, the recorder
and the lessons treat a conversation with mailsim, with a remote mailsim, with Dovecot
or one watched through `mailsim watch` alike. Sans-IO, like the engines.

Fields only the server itself can know stay empty: a reply's `key` is found by matching
the text against the engine's reply catalog (so a mailsim server's replies get their
own explanations, others the explanation of their code), and store facts (`Delivered`,
`DeletionMarked`, the engine's store-based notes) are never emitted.

Client input is read lazily: a line whose meaning depends on the server's answer (the
message after DATA, a SASL response after a challenge, the octets of a synchronising
literal, the line that ends IDLE) waits until that answer has been seen. Client lines
are read before server lines: a server only answers what it has received.
"""

from __future__ import annotations

import enum
import re
from typing import Any, ClassVar

from mailsim.clock import Clock, SystemClock
from mailsim.events import (
    ClientLine,
    Closed,
    Connected,
    Event,
    LineKind,
    Note,
    Protocol,
    Reply,
    ReplyClass,
    ServerLine,
    StateChanged,
    TlsStarted,
)
from mailsim.protocol.base import LineReader, ReplyCatalog, Session, TlsParams
from mailsim.protocol.secrets import SecretMarks
from mailsim.protocol.seen import SeenMailboxes

# Far above any engine's limit: an observer must not lose what a server accepted.
OBSERVED_LINE_LIMIT = 1 << 20
_TLS_RECORD = re.compile(rb"^[\x14-\x17]\x03[\x00-\x04]")  # a TLS record header (RFC 8446 §5.1)
_GREETING_OF = {
    Protocol.SMTP: re.compile(rb"^\d{3}[ -]"),
    Protocol.POP3: re.compile(rb"^(\+OK|-ERR)"),
    Protocol.IMAP: re.compile(rb"^\* (OK|PREAUTH|BYE)\b", re.IGNORECASE),
}


# The reply a server closes after, by its catalog key -> the engines' reason for closing.
_CLOSE_REASONS = {
    "bye": "client quit", "bye-updated": "client quit", "logout-ok": "client logged out",
    "timeout": "idle timeout", "autologout": "idle timeout", "too-many-errors": "too many errors",
    "shutdown": "server shutdown", "too-many-connections": "too many connections",
    "literal-plus-bye": "literal too big",
}


class Gate(enum.Enum):
    """What the client's next bytes wait for: the server's answer decides what they are."""

    OPEN = "open"              # nothing: the next line is a command
    DATA = "data"              # DATA sent: 354 makes what follows message text
    SASL = "sasl"              # an AUTH exchange: a challenge makes the next line a response
    LITERAL = "literal"        # a synchronising literal: "+" lets its octets come
    IDLE = "idle"              # IDLE sent: "+" makes the next line the one that ends it
    TLS = "tls"                # STARTTLS sent: its success makes the rest encrypted


class ReplyKeys:
    """Finds which entry of an engine's reply catalog a reply's text came from."""

    def __init__(self, catalog: type[ReplyCatalog], hints: dict[str, tuple[str, ...]] | None = None) -> None:
        self._hints = hints or {}
        self._specs: list[tuple[str, re.Pattern[str], str, int]] = []
        for spec in catalog.all():
            pieces = re.split(r"(\{\w+\})", spec.text)
            pattern = "".join(".*?" if p.startswith("{") else re.escape(p) for p in pieces)
            literal = sum(len(p) for p in pieces if not p.startswith("{"))
            self._specs.append((spec.code, re.compile(pattern + r"\Z", re.DOTALL), spec.key, literal))

    def key(self, code: str, text: str, command: str) -> str:
        """The key of the catalog entry with this code whose template gives `text`;
        among several, the one named after the command (or hinted for it), else the
        most specific."""
        named = command.rpartition(" ")[2].lower()  # "UID FETCH" answers as FETCH does
        found = [(key, literal) for c, pattern, key, literal in self._specs if c == code and pattern.match(text)]
        if not found:
            # Another server's words: the entry with this code for this command (its
            # explanation fits any server's "Select completed"), else none.
            found = [(key, 0) for c, _pattern, key, _literal in self._specs if c == code]
            if not any(self._for_command(key, named, command) for key, _ in found):
                return ""
        keys = [key for key, _literal in found]
        for wanted in (named, *self._hints.get(command, ())):
            if wanted in keys:
                return wanted
        for key in keys:
            if key.startswith(named + "-"):
                return key
        return max(found, key=lambda item: item[1])[0]

    def _for_command(self, key: str, named: str, command: str) -> bool:
        return key == named or key.startswith(named + "-") or key in self._hints.get(command, ())


class DialogObserver:
    """Base of the SMTP, POP3 and IMAP observers: feed it both sides, read `events()`.

    Subclasses set `protocol`, `engine` (whose `TRANSITIONS` and `initial_state` they
    follow) and `catalog`, and implement `_client_line_in()` (one client line, when the
    gate is open or its answer has come) and `_server_unit()` (one complete server
    response, or None until it has arrived).
    """

    protocol: ClassVar[Protocol]
    engine: ClassVar[type[Session]]
    catalog: ClassVar[type[ReplyCatalog]]
    # command -> catalog keys its replies may have, where templates alone are ambiguous
    REPLY_KEY_HINTS: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, *, session_id: str, peer: str = "", clock: Clock | None = None, read_only: bool = False,
                 tls_endpoint: bool = False) -> None:
        self.session_id = session_id
        self.peer = peer
        self.read_only = read_only
        self.clock = clock or SystemClock()
        self.state: Any = self.engine.initial_state
        self.closed = False
        self.encrypted = False  # encrypted bytes it cannot read (a relay after STARTTLS)
        # `mailsim connect` ends TLS itself and hands the observer the plaintext: after
        # the go-ahead it asks for the handshake (`tls_requested`), hears it happened
        # (`tls_started`) and reads on. A relay (`mailsim watch`) only sees ciphertext.
        self.tls_endpoint = tls_endpoint
        self.tls_requested = False
        self.secure = False
        self.gate = Gate.OPEN
        self.user = ""  # who logged in, when the dialog shows it
        self.seen = SeenMailboxes(server=peer)  # the mailboxes as the dialog showed them
        self._client = LineReader(OBSERVED_LINE_LIMIT)
        self._server = LineReader(OBSERVED_LINE_LIMIT)
        self._events: list[Event] = []
        self._heard_server = False
        self._foreign = False  # the server is not speaking this protocol: stop reading it
        self._keys = ReplyKeys(self.catalog, self.REPLY_KEY_HINTS)
        self._last_key = ""
        self._goodbye = ""  # the engines' reason for closing, once QUIT/LOGOUT was answered
        self._secrets = SecretMarks(self.protocol)  # passwords marked as the engines mark them

    # -- what a transport calls ----------------------------------------------------------

    def start(self, tls: TlsParams | None = None) -> None:
        """The connection is up; with `tls`, an implicit-TLS one (RFC 8314) whose
        handshake came before the greeting."""
        self._emit(Connected(self.session_id, self._now(), self.protocol, self.peer, self.read_only))
        if tls is not None:
            self._secured(tls, implicit=True)

    def tls_started(self, tls: TlsParams, *, implicit: bool = False) -> None:
        """The transport finished the handshake the go-ahead asked for (or, `implicit`,
        the one before the greeting): the dialog goes on encrypted, from the state the
        engine is in after TLS (`_after_tls`)."""
        if self.closed:
            return
        self.tls_requested = False
        self._secured(tls, implicit=implicit)
        self._after_tls()
        self.gate = Gate.OPEN
        self._pump()

    def tls_failed(self, key: str, **params: object) -> None:
        """The handshake failed (`key` says how): nothing more can be said here."""
        self.tls_requested = False
        self._note(key, **params)
        self._end("TLS handshake failed", mid_command=False)

    def client_data(self, data: bytes) -> None:
        """Bytes the client sent, in order."""
        if self.closed or not data:
            return
        if self.encrypted:
            self._emit(ClientLine(self.session_id, self._now(), self.protocol, data, LineKind.ENCRYPTED.value))
            return
        self._client.feed(data)
        self._pump()

    def server_data(self, data: bytes) -> None:
        """Bytes the server sent, in order."""
        if self.closed or not data:
            return
        if self.encrypted or self._foreign:
            self._emit(ServerLine(self.session_id, self._now(), self.protocol, data, content=True))
            return
        if not self._heard_server:
            self._heard_server = True
            if not self._sounds_like_this_protocol(data):
                return
        self._server.feed(data)
        self._pump()

    def client_eof(self) -> None:
        """The client closed its side."""
        self._end("client closed the connection", mid_command=self._client.buffered > 0)

    def server_eof(self) -> None:
        """The server closed its side."""
        self._end(self._server_close_reason(), mid_command=self._waiting_for_server())

    def events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def note(self, key: str, **params: object) -> None:
        """A note from the transport about the connection (connecting, refused...)."""
        self._note(key, **params)

    def abort(self, reason: str) -> None:
        """The conversation ends without either side closing it (it never began)."""
        self._end(reason, mid_command=False)

    # -- what subclasses implement ---------------------------------------------------------

    def _client_line_in(self) -> bool:
        """Read the next client input the gate allows; False when there is none yet."""
        raise NotImplementedError

    def _server_unit(self) -> bool:
        """Read the next complete server response; False until one has arrived."""
        raise NotImplementedError

    def _waiting_for_server(self) -> bool:
        """Whether a command is still unanswered."""
        return False

    def _server_close_reason(self) -> str:
        return self._goodbye or _CLOSE_REASONS.get(self._last_key, "server closed the connection")

    # -- the reading loop ------------------------------------------------------------------

    def _pump(self) -> None:
        while not self.closed and not self.encrypted and not self._foreign and not self.tls_requested:
            if self._client_line_in():
                continue
            if not self._server_unit():
                return

    def _sounds_like_this_protocol(self, data: bytes) -> bool:
        """The server's first bytes: TLS, binary, or another protocol's greeting is said
        once, in plain words, and the rest is shown as it comes."""
        if _TLS_RECORD.match(data):
            problem = "dialog.tls-port"
        elif not _GREETING_OF[self.protocol].match(data):
            other = next((p for p, g in _GREETING_OF.items() if p is not self.protocol and g.match(data)), None)
            if other is not None:
                problem = "dialog.other-protocol"
            elif any(b < 9 or 13 < b < 32 for b in data[:64]):
                problem = "dialog.not-text"
            else:
                return True  # an odd greeting: read on, the replies will tell
        else:
            return True
        self._foreign = True
        self._emit(ServerLine(self.session_id, self._now(), self.protocol, data, content=True))
        speaks = next((p.value.upper() for p, g in _GREETING_OF.items() if g.match(data)), "?")
        self._note(problem, expected=self.protocol.value.upper(), speaks=speaks)
        return False

    # -- emitting, the engines' way ------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now()

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _client_line(self, data: bytes, kind: LineKind, verb: str = "", tag: str = "") -> None:
        secret = self._secrets.mark(data, kind, verb)
        self._emit(ClientLine(self.session_id, self._now(), self.protocol, data, kind.value, verb, tag, secret))

    def _server_line(self, data: bytes, *, content: bool = False) -> None:
        self._emit(ServerLine(self.session_id, self._now(), self.protocol, data, content))

    def _reply(self, code: str, reply_class: ReplyClass, command: str, text: str, *,
               enhanced: str = "", tag: str = "") -> None:
        key = self._last_key = self._keys.key(code, text, command)
        self._emit(Reply(self.session_id, self._now(), self.protocol, code, reply_class, command, text,
                         enhanced, tag, key))

    def _move(self, new: Any, command: str) -> None:
        if new is None or new == self.state:
            return
        old, self.state = self.state, new
        self._emit(StateChanged(self.session_id, self._now(), self.protocol, str(old.value), str(new.value), command))

    def _follow(self, verb: str, command: str | None = None) -> None:
        """Move as the engine's table says a successful `verb` moves from this state."""
        target = self.engine.TRANSITIONS.get((self.state, verb))
        if isinstance(target, tuple):
            return  # several possible targets: the subclass knows which
        self._move(target, verb if command is None else command)

    def _note(self, key: str, **params: object) -> None:
        self._emit(Note(self.session_id, self._now(), self.protocol, key, tuple((k, str(v)) for k, v in params.items())))

    def _not_allowed(self, what: str, line: bytes = b"") -> None:
        """The server did something its RFC does not allow: said, and read on."""
        shown = line.rstrip(b"\r\n").decode("utf-8", "replace")[:80]
        self._note(f"dialog.{what}", line=shown)

    def _after_tls(self) -> None:
        """Forget what the engine forgets after STARTTLS (each protocol knows what)."""

    def _secured(self, tls: TlsParams, *, implicit: bool) -> None:
        self.secure = True
        self._emit(TlsStarted(self.session_id, self._now(), self.protocol, tls.version, tls.cipher, tls.subject,
                              tls.fingerprint, implicit))

    def _tls_go_ahead(self, verb: str) -> None:
        """A successful STARTTLS/STLS: a relay can read no further; a TLS endpoint moves
        as the engine does, asks the transport for the handshake and waits for it.
        Anything the server sent after its go-ahead came in cleartext before the
        handshake: a client must ignore it (RFC 3207 §4.2, the response injection)."""
        if not self.tls_endpoint:
            self._encrypted_from_here()
            return
        self._follow(verb)
        self.tls_requested = True
        self.gate = Gate.TLS
        injected = self._server_rest()
        if injected:
            self._server_line(injected, content=True)
            self._note("dialog.tls-injected", octets=len(injected))

    def _encrypted_from_here(self) -> None:
        self.encrypted = True
        self.gate = Gate.OPEN
        self._note("dialog.encrypted")
        rest_client = self._client_rest()
        if rest_client:
            self._emit(ClientLine(self.session_id, self._now(), self.protocol, rest_client, LineKind.ENCRYPTED.value))
        rest_server = self._server_rest()
        if rest_server:
            self._emit(ServerLine(self.session_id, self._now(), self.protocol, rest_server, content=True))

    def _client_rest(self) -> bytes:
        return self._client.read_exact(self._client.buffered) or b""

    def _server_rest(self) -> bytes:
        return self._server.read_exact(self._server.buffered) or b""

    def _end(self, reason: str, *, mid_command: bool) -> None:
        if self.closed:
            return
        if mid_command and not self.encrypted:
            self._note("dialog.closed-mid-command", side="client" if reason.startswith("client") else "server")
        self.closed = True
        self._emit(Closed(self.session_id, self._now(), self.protocol, reason))


def wire_text(data: bytes) -> str:
    """A reply line's text without its line end, as the engines compose it."""
    return data.rstrip(b"\r\n").decode("utf-8", "replace")
