"""What the three protocol engines share: line reading, the session's four verbs,
reply records, command metadata and state bookkeeping.

A session is sans-IO (the shape of websockets' and h11's cores): the transport calls
`receive_data()` with whatever bytes arrived, then takes `data_to_send()` and
`events()`. No sockets, no asyncio, no clock reads except through the injected clock.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from mailsim.clock import Clock, IdGenerator, SystemClock
from mailsim.events import (
    ClientLine,
    Closed,
    Connected,
    Event,
    Note,
    Protocol,
    Reply,
    ReplyClass,
    ServerLine,
    StateChanged,
)
from mailsim.protocol.sasl import SaslExchange, initial_response_form
from mailsim.protocol.throttle import LoginThrottle, Lockout
from mailsim.store.store import MailStore

CRLF = b"\r\n"

log = logging.getLogger(__name__)


# -- incremental line reading -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One line as received: `data` without its terminator.

    `crlf` tells whether it ended in CRLF (a bare LF otherwise) — SMTP's end of data
    must be CRLF.CRLF exactly. `too_long` marks a line that exceeded the limit: its
    bytes were discarded as they came, so a flood cannot fill memory.
    """

    data: bytes
    crlf: bool = True
    too_long: bool = False

    @property
    def raw(self) -> bytes:
        return self.data + (CRLF if self.crlf else b"\n")


class LineReader:
    """Splits a byte stream into lines, and can switch to reading exact byte counts
    (IMAP literals). Never holds more than `limit` bytes of an unfinished line."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def next_line(self) -> Line | None:
        """The next complete line, or None until more bytes arrive."""
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > self.limit:
                # Keep nothing of a line that is already too long; remember to
                # report it when its end finally arrives.
                self._discarding = True
                del self._buffer[:]
            return None
        chunk = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        crlf = chunk.endswith(b"\r")
        if crlf:
            chunk = chunk[:-1]
        if self._discarding or len(chunk) + (2 if crlf else 1) > self.limit:
            self._discarding = False
            return Line(b"", crlf, too_long=True)
        return Line(chunk, crlf)

    def peek_complete(self) -> tuple[bytes, bool]:
        """All complete lines buffered (through the last LF), without consuming them,
        and whether the first of them is the tail of a line already too long.

        For bulk bodies (SMTP DATA): handling a block at once is far cheaper than one
        line at a time. An unfinished line over the limit is dropped as usual.
        """
        end = self._buffer.rfind(b"\n")
        if end < 0:
            if len(self._buffer) > self.limit:
                self._discarding = True
                del self._buffer[:]
            return b"", False
        return bytes(self._buffer[: end + 1]), self._discarding

    def consume(self, count: int) -> None:
        """Drop `count` bytes taken with `peek_complete` (ending at a line end)."""
        del self._buffer[:count]
        self._discarding = False

    def read_exact(self, count: int) -> bytes | None:
        """Exactly `count` bytes (an IMAP literal), or None until they have arrived."""
        if len(self._buffer) < count:
            return None
        chunk = bytes(self._buffer[:count])
        del self._buffer[:count]
        return chunk


# -- command metadata -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """Teaching metadata beside each handler: HELP, suggestions and hints read it."""

    verb: str
    syntax: str
    rfc: str
    handler: str


def command(verb: str, syntax: str, rfc: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a session method as the handler of `verb`."""

    def mark(handler: Callable[..., Any]) -> Callable[..., Any]:
        handler._command_info = CommandInfo(verb.upper(), syntax, rfc, handler.__name__)  # type: ignore[attr-defined]
        return handler

    return mark


# -- reply catalog ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplySpec:
    """One reply a server can send: the code, the enhanced status (SMTP), and the
    text with `{placeholders}`. `key` names its explanation in the data file."""

    key: str
    code: str
    text: str
    enhanced: str = ""

    def format(self, **params: object) -> str:
        return self.text.format(**params) if params else self.text


class ReplyCatalog:
    """A namespace of ReplySpec constants; `all()` lists them for completeness tests."""

    @classmethod
    def all(cls) -> list[ReplySpec]:
        return [v for v in vars(cls).values() if isinstance(v, ReplySpec)]


# -- the session --------------------------------------------------------------------------

S = TypeVar("S", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    hostname: str = "mailsim.test"
    max_message_size: int = 10 * 1024 * 1024
    max_recipients: int = 100
    max_errors: int = 10
    max_literal: int = 25 * 1024 * 1024
    auth_failure_delay: float = 1.0
    # Before login only small literals: a stranger must not make the server hold
    # megabytes for a LOGIN it will refuse (Dovecot allows a few KiB too).
    max_preauth_literal: int = 8 * 1024
    # Failed logins one connection may make; the next failure hangs up, as real
    # servers do (smtplib alone tries three mechanisms with one wrong password).
    max_login_failures: int = 3


class Session(Generic[S]):
    """Base of the SMTP, POP3 and IMAP sessions.

    Subclasses set `protocol`, `initial_state`, and implement `_greet()` and
    `_process()`; they send with `_send_line()`/`_reply()` and move with `_set_state()`.
    """

    protocol: ClassVar[Protocol]
    initial_state: ClassVar[Any]
    line_limit: ClassVar[int] = 8192
    COMMANDS: ClassVar[dict[str, CommandInfo]] = {}
    # For line-oriented protocols (SMTP, POP3): what is legal when, and the verbs
    # an older RFC had that are recognised only to be explained.
    TRANSITIONS: ClassVar[dict[tuple[Any, str], Any]] = {}
    OBSOLETE: ClassVar[tuple[str, ...]] = ()
    ARGUMENT_STRIP: ClassVar[str] = " \t"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, CommandInfo] = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                info = getattr(value, "_command_info", None)
                if isinstance(info, CommandInfo):
                    found[info.verb] = info
        cls.COMMANDS = found

    def __init__(
        self,
        store: MailStore,
        *,
        session_id: str,
        peer: str = "",
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        config: SessionConfig | None = None,
        read_only: bool = False,
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.peer = peer
        self.clock = clock or store.clock or SystemClock()
        self.ids = ids or store.ids
        self.config = config or SessionConfig(hostname=store.domain)
        self.read_only = read_only
        self.state: S = self.initial_state
        self.last_command = ""
        self.closed = False
        self.reader = LineReader(self.line_limit)
        self._out = bytearray()
        self._events: list[Event] = []
        self._started = False
        self._delay = 0.0
        self._bulk: deque[memoryview] = deque()  # long answers not yet handed out, in order
        self._bulk_size = 0
        self._input_held = False
        self.login_failures = 0
        #: Set by a transport that sends as the socket drains (TCP): output is handed
        #: out about this many octets at a time, and no further command is read while
        #: that much waits, so a client that does not read its answers stops being
        #: served instead of filling memory. None: all at once (the console).
        self.stream_threshold: int | None = None
        #: Set by a transport: the failed-login record shared by all its connections.
        self.throttle: LoginThrottle | None = None
        # Set by the transport or the console: called when the session has output
        # that no input asked for (an IMAP IDLE woken by a delivery), so it is sent
        # without waiting for the client to speak.
        self.on_output: Callable[[], None] | None = None

    # -- the four verbs the transports use ------------------------------------------

    def start(self) -> None:
        """Open the session: the Connected event and the server's greeting."""
        if self._started:
            return
        self._started = True
        self._emit(Connected(self.session_id, self.clock.now(), self.protocol, self.peer, self.read_only))
        self._greet()

    def receive_data(self, data: bytes) -> None:
        if self.closed or not data:
            return
        self.reader.feed(data)
        self._process()

    def receive_eof(self) -> None:
        """The client went away. Subclasses undo whatever was half done."""
        self._bulk.clear()  # nobody is left to read what was not sent
        self._bulk_size = 0
        self._input_held = False
        if self.closed:
            return
        self._abandon()
        self._finish("client closed the connection")

    def receive_timeout(self) -> None:
        """The transport's idle timer fired."""
        if not self.closed:
            self._timed_out()

    def receive_deadline(self, seconds: float) -> None:
        """The transport's deadline passed: a command begun `seconds` ago is still
        not complete (a trickle of bytes is no activity). Closed as on a timeout."""
        if not self.closed:
            self._deadline_passed(seconds)

    def data_to_send(self) -> bytes:
        """What to send now: everything, or with `stream_threshold` about that many
        octets (call again while `has_more_output`)."""
        if self._bulk:
            out = self._take_bulk(self.stream_threshold or self._bulk_size)
        else:
            out = bytes(self._out)
            self._out.clear()
        if self._input_held and not self._output_backlog() and not self.closed:
            self._input_held = False
            self._process()  # the commands that waited for the client to read
        return out

    @property
    def has_more_output(self) -> bool:
        """More to hand out (or held input to go on with): call data_to_send() again
        when the transport can take more."""
        return bool(self._bulk) or bool(self._out) or (self._input_held and not self.closed)

    def _take_bulk(self, limit: int) -> bytes:
        parts: list[memoryview] = []
        taken = 0
        while self._bulk and taken < limit:
            head = self._bulk[0]
            if len(head) > limit - taken:
                parts.append(head[: limit - taken])
                self._bulk[0] = head[limit - taken :]
            else:
                parts.append(self._bulk.popleft())
            taken += len(parts[-1])
        self._bulk_size -= taken
        return b"".join(parts)

    def _pending_output(self) -> int:
        return self._bulk_size + len(self._out)

    def _output_backlog(self) -> bool:
        return self.stream_threshold is not None and self._pending_output() >= self.stream_threshold

    def _hold_input(self) -> bool:
        """Whether the next command must wait: what the client has not taken yet is
        over `stream_threshold` (its answers would pile up in memory otherwise)."""
        if self._output_backlog():
            self._input_held = True
            return True
        return False

    def events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def shutdown(self) -> None:
        """The server is stopping: say goodbye the protocol's way and close."""
        self._finish("server shutdown")

    def refuse_busy(self, address_limit: int | None = None) -> None:
        """A connection over one of the server's limits: refuse it the protocol's way
        (saying the per-address limit when that is the one reached)."""
        self.start()
        self.shutdown()

    def take_delay(self) -> float:
        """Seconds the transport should wait before sending what is queued (a failed
        login is answered slowly, as real servers do against password guessing)."""
        delay, self._delay = self._delay, 0.0
        return delay

    # -- what subclasses implement -----------------------------------------------------

    def _greet(self) -> None:
        raise NotImplementedError

    def _process(self) -> None:
        raise NotImplementedError

    def _abandon(self) -> None:
        """Called when the client vanishes: undo a half-finished transaction."""

    def _timed_out(self) -> None:
        self._finish("idle timeout")

    def _deadline_passed(self, seconds: float) -> None:
        self._timed_out()

    # -- one command line (SMTP and POP3 share the checks) -------------------------------

    def _command_line(self, line: Line) -> None:
        """Check a command line the way every line protocol must — too long, not text,
        an obsolete or unknown verb, not legal in this state — and refuse it the
        protocol's way (`_refuse`, `_out_of_sequence`); otherwise run its handler."""
        self._client_line(line.raw, secret=self._secret_in(line.data))
        if line.too_long:
            self.last_command = ""
            self._refuse("line-too-long", limit=self.reader.limit)
            return
        if not _is_text(line.data):
            self.last_command = ""
            self._refuse("binary-junk")
            return
        verb, argument = split_verb(line.data)
        self.last_command = verb
        if verb in self.OBSOLETE:
            self._refuse("obsolete", verb=verb)
            return
        info = self.COMMANDS.get(verb)
        if info is None:
            self._refuse("unknown-command", verb=verb[:40] or "(empty line)")
            return
        if (self.state, verb) not in self.TRANSITIONS:
            self._out_of_sequence(verb)
            return
        self._guarded(verb, getattr(self, info.handler), argument.strip(self.ARGUMENT_STRIP))

    def _guarded(self, verb: str, handler: Callable[..., None], *args: Any) -> None:
        """Run a handler; a bug in it becomes the protocol's "local error" reply
        (`_server_bug`) and the session goes on, instead of the connection dying."""
        try:
            handler(*args)
        except Exception:
            log.exception("%s %s failed", self.protocol.value, verb)
            if not self.closed:
                self._server_bug(verb)

    def _refuse(self, problem: str, **params: object) -> None:
        """Answer a line that is no command here: `problem` is one of line-too-long,
        binary-junk, obsolete, unknown-command."""
        raise NotImplementedError

    def _out_of_sequence(self, verb: str) -> None:
        """Answer a known command sent in a state where it is not legal."""
        raise NotImplementedError

    def _server_bug(self, verb: str) -> None:
        """Answer a command whose handler failed inside the server."""
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _now(self) -> float:
        return self.clock.now()

    def _client_line(self, data: bytes, *, secret: tuple = ()) -> None:
        self._emit(ClientLine(self.session_id, self._now(), self.protocol, data, secret))

    def _secret_in(self, data: bytes) -> tuple:
        """Where a command line holds a secret (`ClientLine.secret`): the argument of
        PASS, the initial response of AUTH. Engines with other login verbs extend it."""
        verb, _, rest = data.partition(b" ")
        verb = verb.upper()
        start = len(verb) + 1 + (len(rest) - len(rest.lstrip(b" ")))
        if verb == b"PASS" and rest.strip():
            return (start, len(data.rstrip(b" ")), "text")
        if verb == b"AUTH":
            mechanism, space, initial = rest.lstrip(b" ").partition(b" ")
            form = initial_response_form(mechanism.decode("ascii", "replace"))
            if space and initial.strip() and form:
                begin = start + len(mechanism) + 1 + (len(initial) - len(initial.lstrip(b" ")))
                return (begin, len(data.rstrip(b" ")), form)
        return ()

    def _send_line(self, text: str | bytes) -> None:
        data = (text.encode("utf-8") if isinstance(text, str) else text) + CRLF
        self._out += data
        self._emit(ServerLine(self.session_id, self._now(), self.protocol, data))

    def _send_raw(self, data: bytes | memoryview, *, log_lines: bool = True) -> None:
        """Bulk data (a message body): queued as is and logged as one block event —
        one event per line would cost more than sending the bytes. Views split the
        block into lines (`split_wire_lines`). Streaming, a long body is queued by
        reference and handed out piece by piece, never copied whole."""
        threshold = self.stream_threshold
        if threshold is not None and len(data) > threshold:
            if self._out:
                self._bulk.append(memoryview(bytes(self._out)))
                self._out.clear()
            self._bulk.append(memoryview(data))
            self._bulk_size += len(data)
        else:
            self._out += data  # after whatever bulk is queued, as it should be
        if log_lines and data:
            self._emit(ServerLine(self.session_id, self._now(), self.protocol, bytes(data)))

    def _announce_reply(
        self, code: str, reply_class: ReplyClass, text: str, *, enhanced: str = "", tag: str = "", key: str = ""
    ) -> None:
        self._emit(
            Reply(
                self.session_id,
                self._now(),
                self.protocol,
                code,
                reply_class,
                self.last_command,
                text,
                enhanced,
                tag,
                key,
            )
        )

    def _note(self, key: str, **params: object) -> None:
        self._emit(
            Note(self.session_id, self._now(), self.protocol, key, tuple((k, str(v)) for k, v in params.items()))
        )

    def _set_state(self, new: S) -> None:
        if new == self.state:
            return
        old, self.state = self.state, new
        self._emit(StateChanged(self.session_id, self._now(), self.protocol, str(old.value), str(new.value), self.last_command))

    def _finish(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._on_close()
        self._emit(Closed(self.session_id, self._now(), self.protocol, reason))

    def _on_close(self) -> None:
        """Release what the session holds (locks, observers)."""

    def _delay_reply(self, seconds: float) -> None:
        self._delay = max(self._delay, seconds)

    # -- logins (one policy for the three protocols) ------------------------------------------

    @property
    def peer_address(self) -> str:
        """The client's address without the port ("" in the console)."""
        return self.peer.rsplit(":", 1)[0] if self.peer else ""

    def _judge_login(self, user: str, credentials_ok: bool) -> "LoginVerdict":
        """Whether a login with these credentials may proceed, after the throttle.

        A locked account or address is refused whatever the password (so the
        answer tells a guesser nothing); a failure is answered after a delay that
        grows with the failures of the account and of the address; after
        more than `max_login_failures` on one connection the session hangs up.
        """
        now = self._now()
        address = self.peer_address
        lock = self.throttle.locked(user, address, now) if self.throttle is not None else None
        if lock is None and credentials_ok:
            if self.throttle is not None:
                self.throttle.succeeded(user, address, now)
            return LoginVerdict(accepted=True)
        self.login_failures += 1
        delay = self.config.auth_failure_delay  # a refusal while locked waits too: no flood
        if lock is None and self.throttle is not None:
            delay = self.throttle.delay(delay, self.throttle.failed(user, address, now))
        self._delay_reply(delay)
        return LoginVerdict(
            accepted=False, lock=lock, hang_up=self.login_failures > self.config.max_login_failures
        )


@dataclass(frozen=True, slots=True)
class LoginVerdict:
    """What `_judge_login` decided: accepted; or refused, maybe because `lock` holds
    (answer with the protocol's "try later"), and maybe with `hang_up`."""

    accepted: bool
    lock: Lockout | None = None
    hang_up: bool = False


def _is_text(data: bytes) -> bool:
    """UTF-8 with no control characters but TAB: what a command line may hold."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c != "\t" for c in text)


def sasl_response_secret(line: Line, exchange: SaslExchange) -> tuple:
    """`ClientLine.secret` of a line answering a SASL challenge: all of it, unless it
    holds no secret (LOGIN's user name) or cancels ("*")."""
    form = exchange.response_form()
    data = line.data.rstrip(b" ")
    return (0, len(data), form) if form and data and data != b"*" and not line.too_long else ()


def split_wire_lines(data: bytes) -> list[bytes]:
    """The lines of a ClientLine/ServerLine block, each with its line end."""
    return data.splitlines(keepends=True) if data.count(b"\n") > 1 else [data]


def split_verb(line: bytes) -> tuple[str, str]:
    """`b"MAIL FROM:<a@b>"` -> ("MAIL", "FROM:<a@b>"); the verb upper-cased."""
    text = line.decode("utf-8", errors="replace")
    verb, _, rest = text.strip(" ").partition(" ")
    return verb.upper(), rest


def valid_commands(table: Iterable[tuple[Any, str]], state: Any) -> list[str]:
    """The verbs a transition table allows in `state`, in table order."""
    return list(dict.fromkeys(verb for source, verb in table if source == state))
