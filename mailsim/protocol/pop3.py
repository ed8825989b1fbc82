"""POP3 server session, sans-IO (RFC 1939, extended by RFC 2449 CAPA and RFC 5034 AUTH).

A client logs in (AUTHORIZATION), works on a snapshot of its INBOX taken at login
(TRANSACTION), and only on QUIT are the messages it marked for deletion removed
(UPDATE). Which command is legal when is decided by one table, `TRANSITIONS`: a
(state, verb) pair missing from it is answered `-ERR` with the reason.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mailsim.events import DeletionMarked, LineKind, Protocol, ReplyClass
from mailsim.protocol.base import Line, ReplyCatalog, ReplySpec, Session, command, sasl_response_secret
from mailsim.protocol.classify import POP3_REPLY_CLASSES
from mailsim.protocol.sasl import MECHANISMS, Challenge, Failure, SaslExchange, Step, Success, encode_challenge
from mailsim.store.changes import MessagesExpunged, StoreChange
from mailsim.store.model import INBOX, StoredMessage
from mailsim.store.store import MailStore, StoreError


class Pop3State(enum.Enum):
    AUTHORIZATION = "authorization"  # greeting sent; the client must identify itself
    AUTH = "auth"                    # inside an AUTH challenge–response exchange
    TRANSACTION = "transaction"      # logged in, maildrop locked: read and mark
    UPDATE = "update"                # QUIT received: marked messages are removed


S = Pop3State
_TRANSACTION_VERBS = ("STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP", "CAPA")

# (state, verb) -> state after the command succeeds. What is not here is answered
# -ERR as out of place. "<response>" is not a command but a client line of an AUTH
# exchange. QUIT in AUTHORIZATION ends the session without entering UPDATE (§6).
TRANSITIONS: dict[tuple[Pop3State, str], Pop3State] = {
    (S.AUTHORIZATION, "CAPA"): S.AUTHORIZATION,
    (S.AUTHORIZATION, "USER"): S.AUTHORIZATION,
    (S.AUTHORIZATION, "PASS"): S.TRANSACTION,
    (S.AUTHORIZATION, "APOP"): S.TRANSACTION,
    (S.AUTHORIZATION, "AUTH"): S.AUTH,
    (S.AUTHORIZATION, "STLS"): S.AUTHORIZATION,
    (S.AUTH, "<response>"): S.TRANSACTION,
    (S.AUTHORIZATION, "QUIT"): S.AUTHORIZATION,
    **{(S.TRANSACTION, verb): S.TRANSACTION for verb in _TRANSACTION_VERBS},
    (S.TRANSACTION, "QUIT"): S.UPDATE,
}

# RFC 1460/1725 commands that RFC 1939 removed; recognized so the student learns why.
OBSOLETE = ("LAST", "RPOP")

# RFC 2449 §4: a server MUST accept command lines of 255 octets; we allow a little more.
BODY_LOG_LIMIT = 256 * 1024  # octets of a RETR/TOP body logged line by line
COMMAND_LINE_LIMIT = 512
AUTH_LINE_LIMIT = 12288  # RFC 5034 §4: SASL responses may be longer than commands
CAPABILITIES = (
    "TOP",
    "USER",
    "UIDL",
    "RESP-CODES",
    "AUTH-RESP-CODE",
    "PIPELINING",
    f"SASL {' '.join(MECHANISMS)}",
    "IMPLEMENTATION mailsim",
)


class Pop3Replies(ReplyCatalog):
    GREETING = ReplySpec("greeting", "+OK", "mailsim POP3 server ready {timestamp}")
    CAPA = ReplySpec("capa", "+OK", "Capability list follows")
    USER_OK = ReplySpec("user-ok", "+OK", "Send PASS for {user}")
    LOGGED_IN = ReplySpec("logged-in", "+OK", "{user}'s maildrop has {count} messages ({size} octets)")
    AUTH_CHALLENGE = ReplySpec("auth-challenge", "+", "{challenge}")
    AUTH_MECHANISMS = ReplySpec("auth-mechanisms", "+OK", "SASL mechanisms follow")
    STAT = ReplySpec("stat", "+OK", "{count} {size}")
    SCAN_LISTING = ReplySpec("scan-listing", "+OK", "{number} {size}")
    LIST = ReplySpec("list", "+OK", "{count} messages ({size} octets)")
    UNIQUE_ID = ReplySpec("unique-id", "+OK", "{number} {uid}")
    UIDL = ReplySpec("uidl", "+OK", "Unique-id listing follows")
    RETR = ReplySpec("retr", "+OK", "{size} octets")
    TOP = ReplySpec("top", "+OK", "Top of message {number} follows")
    DELE = ReplySpec("dele", "+OK", "Message {number} marked for deletion")
    RSET = ReplySpec("rset", "+OK", "Maildrop has {count} messages ({size} octets)")
    NOOP = ReplySpec("noop", "+OK", "")
    BYE = ReplySpec("bye", "+OK", "mailsim POP3 server signing off")
    BYE_UPDATED = ReplySpec("bye-updated", "+OK", "mailsim POP3 server signing off ({left} messages left)")
    TLS_GO_AHEAD = ReplySpec("tls-go-ahead", "+OK", "Begin TLS negotiation")
    TLS_ACTIVE = ReplySpec("tls-active", "-ERR", "Command not permitted when TLS active")
    TLS_UNAVAILABLE = ReplySpec("tls-unavailable", "-ERR", "[SYS/PERM] TLS not available: this server was started without a certificate")
    TLS_REQUIRED = ReplySpec("tls-required", "-ERR", "[AUTH] Plaintext authentication disallowed on an unencrypted connection: send STLS first")
    AUTH_FAILED = ReplySpec("auth-failed", "-ERR", "[AUTH] Invalid user name or password")
    IN_USE = ReplySpec("in-use", "-ERR", "[IN-USE] Maildrop of {user} is locked by another session")
    NEED_USER = ReplySpec("need-user", "-ERR", "Send USER first")
    BAD_MECHANISM = ReplySpec("bad-mechanism", "-ERR", "Unsupported SASL mechanism {mechanism}")
    AUTH_CANCELLED = ReplySpec("auth-cancelled", "-ERR", "AUTH cancelled")
    BAD_BASE64 = ReplySpec("bad-base64", "-ERR", "Cannot decode response: not base64")
    NOT_LOGGED_IN = ReplySpec("not-logged-in", "-ERR", "{verb} is valid only after login, in TRANSACTION state")
    ALREADY_LOGGED_IN = ReplySpec("already-logged-in", "-ERR", "Already logged in: {verb} is valid only in AUTHORIZATION state")
    NO_SUCH_MESSAGE = ReplySpec("no-such-message", "-ERR", "No such message, only {count} messages in maildrop")
    MESSAGE_DELETED = ReplySpec("message-deleted", "-ERR", "Message {number} already deleted")
    MESSAGE_GONE = ReplySpec("message-gone", "-ERR", "Message {number} was removed by another session")
    SYNTAX = ReplySpec("syntax", "-ERR", "Syntax: {syntax}")
    UNKNOWN_COMMAND = ReplySpec("unknown-command", "-ERR", "Unknown command: {verb}")
    OBSOLETE_COMMAND = ReplySpec("obsolete", "-ERR", "{verb} is not implemented: RFC 1939 removed it")
    LINE_TOO_LONG = ReplySpec("line-too-long", "-ERR", "Line too long (limit {limit} octets)")
    BAD_BYTES = ReplySpec("bad-bytes", "-ERR", "Command line is not text")
    TOO_MANY_ERRORS = ReplySpec("too-many-errors", "-ERR", "Too many errors, closing connection")
    SHUTDOWN = ReplySpec("shutdown", "-ERR", "[SYS/TEMP] Server shutting down, nothing was removed")
    WRITE_FAILED = ReplySpec(
        "write-failed", "-ERR", "[SYS/TEMP] Could not remove the marked messages; nothing was removed, try again later"
    )
    SERVER_BUG = ReplySpec("server-bug", "-ERR", "[SYS/TEMP] Local error in processing {verb}; the session goes on")
    TOO_MANY_CONNECTIONS = ReplySpec("too-many-connections", "-ERR", "[SYS/TEMP] Too many connections, try again later")
    TOO_MANY_FROM_ADDRESS = ReplySpec(
        "too-many-from-address", "-ERR", "[SYS/TEMP] Too many connections from your address (limit {limit}), try again later"
    )
    LOGIN_LOCKED = ReplySpec(
        "login-locked", "-ERR", "[SYS/TEMP] Too many failed logins for this {scope}; try again in {seconds} s"
    )
    TOO_MANY_LOGIN_FAILURES = ReplySpec("too-many-login-failures", "-ERR", "[AUTH] Too many failed logins, closing connection")


R = Pop3Replies
# -ERR replies that do not count toward the error limit: the server's own state, replies
# that end the session themselves, or another session's doing (an IMAP client expunged a
# message this one had listed).
_NOT_THE_CLIENTS_FAULT = (
    R.TOO_MANY_ERRORS, R.SHUTDOWN, R.TOO_MANY_CONNECTIONS, R.TOO_MANY_FROM_ADDRESS,
    R.TOO_MANY_LOGIN_FAILURES, R.MESSAGE_GONE, R.WRITE_FAILED, R.SERVER_BUG,
)
_UPGRADE_REPLIES = {"active": R.TLS_ACTIVE, "unavailable": R.TLS_UNAVAILABLE, "go-ahead": R.TLS_GO_AHEAD}

_CODE_CLASS = POP3_REPLY_CLASSES
_CACHE_KEY = "pop3.wire"  # StoredMessage.cache: the byte-stuffed body and its size


@dataclass(frozen=True, slots=True)
class WireForm:
    """A stored message as POP3 sends it: `size` octets with CRLF line ends (what
    STAT/LIST report, RFC 1939 §5), and `stuffed`, those octets with every line that
    starts with '.' given one more (§3), ending in CRLF, ready to go before '.'."""

    size: int
    stuffed: bytes


def wire_form(message: StoredMessage) -> WireForm:
    """The message's POP3 form, computed once per stored message (raw bytes never change)."""
    cached = message.cache.get(_CACHE_KEY)
    if isinstance(cached, WireForm):
        return cached
    raw = message.raw
    if raw.count(b"\n") != raw.count(b"\r\n"):  # bare LFs: POP3 lines end in CRLF
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if raw and not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    stuffed = raw
    if b"\r\n." in stuffed:
        stuffed = stuffed.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    form = WireForm(len(raw), stuffed)
    message.cache[_CACHE_KEY] = form
    return form


def unstuffed(stuffed: bytes) -> bytes:
    """The octets a client keeps of a stuffed body (inverse of the stuffing above)."""
    body = stuffed.replace(b"\r\n..", b"\r\n.")
    return body[1:] if body.startswith(b"..") else body


def top_of(stuffed: bytes, lines: int) -> bytes:
    """Headers, the blank line, and the first `lines` lines of the body (RFC 1939 §7).

    Works on the stuffed form: stuffing only touches the start of lines, so the
    header/body boundary and the line count are the same.
    """
    if stuffed.startswith(b"\r\n"):
        body_start = 2
    else:
        boundary = stuffed.find(b"\r\n\r\n")
        if boundary < 0:
            return stuffed  # all header, no body
        body_start = boundary + 4
    end = body_start
    for _ in range(lines):
        next_end = stuffed.find(b"\r\n", end)
        if next_end < 0:
            break
        end = next_end + 2
    return stuffed[:end]


def apop_digest(timestamp: str, password: str) -> str:
    """RFC 1939 §7: MD5 of the greeting's timestamp followed by the shared secret."""
    return hashlib.md5((timestamp + password).encode("utf-8")).hexdigest()


@dataclass(slots=True)
class Maildrop:
    """The client's view of its INBOX for one session: the snapshot taken at login,
    numbered from 1 (RFC 1939 §5), the numbers marked with DELE, and the UIDs other
    sessions expunged meanwhile."""

    account: str
    uidvalidity: int
    messages: list[StoredMessage]
    marked: set[int]
    gone: set[int]

    def visible(self) -> Iterable[tuple[int, StoredMessage]]:
        for number, message in enumerate(self.messages, start=1):
            if number not in self.marked and message.uid not in self.gone:
                yield number, message

    def totals(self) -> tuple[int, int]:
        count = size = 0
        for _, message in self.visible():
            count += 1
            size += wire_form(message).size
        return count, size

    def unique_id(self, message: StoredMessage) -> str:
        """Stable across sessions and restarts: the store's UIDVALIDITY and UID."""
        return f"{self.uidvalidity}-{message.uid}"


class Pop3Session(Session[Pop3State]):
    protocol = Protocol.POP3
    initial_state = Pop3State.AUTHORIZATION
    line_limit = COMMAND_LINE_LIMIT
    TRANSITIONS = TRANSITIONS
    OBSOLETE = OBSOLETE
    ARGUMENT_STRIP = " "

    def __init__(self, store: MailStore, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.timestamp = ""  # the APOP timestamp of the greeting (RFC 1939 §7)
        self.user = ""       # name given by USER, waiting for PASS
        self.maildrop: Maildrop | None = None
        self.errors = 0
        # One ServerLine event per line of a multi-line body, for the first
        # `body_log_limit` octets of each; 0 sends bodies without line events.
        self.body_log_limit = BODY_LOG_LIMIT
        self._sasl: SaslExchange | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # -- replies -------------------------------------------------------------------------

    def _reply(self, spec: ReplySpec, body: bytes | None = None, **params: object) -> None:
        """Send a status line; with `body` (already stuffed, CRLF-terminated lines) a
        multi-line response ending in '.' (RFC 1939 §3)."""
        text = spec.format(**params)
        # "+OK" may stand alone; a continuation is "+" SP [base64] (RFC 5034 §4).
        self._send_line(f"{spec.code} {text}" if text or spec.code == "+" else spec.code)
        if body is not None:
            self._send_body(body)
            self._send_line(b".")
        self._announce_reply(spec.code, _CODE_CLASS[spec.code], text, key=spec.key)
        if spec.code == "-ERR" and spec not in _NOT_THE_CLIENTS_FAULT:
            self._count_error()

    def _send_body(self, body: bytes) -> None:
        """Queue a body; log it line by line up to the limit, and say what was not logged.

        A transcript wants lines, but half a million events for a 25 MB attachment
        would help nobody and cost more than sending it.
        """
        limit = self.body_log_limit
        if len(body) <= limit:
            self._send_raw(body, content=True)
            return
        last_line_end = body.rfind(b"\r\n", 0, limit) if limit > 0 else -1
        cut = last_line_end + 2 if last_line_end >= 0 else 0
        view = memoryview(body)  # slices of the cached body, not copies of it
        if cut:
            self._send_raw(view[:cut], content=True)
        self._send_raw(view[cut:], log_lines=False)
        rest = len(body) - cut
        self._note("pop3.body-not-logged", octets=rest, lines=body.count(b"\r\n", cut))

    def _count_error(self) -> None:
        self.errors += 1
        if self.errors >= self.config.max_errors and not self.closed:
            self._reply(R.TOO_MANY_ERRORS)
            self._note("pop3.too-many-errors", limit=self.config.max_errors)
            self._finish("too many errors")

    # -- lifecycle ---------------------------------------------------------------------------

    def _greet(self) -> None:
        self.timestamp = f"<{self.ids.next_id()}.{int(self._now())}@{self.config.hostname}>"
        self._reply(R.GREETING, timestamp=self.timestamp)

    def _deadline_passed(self, seconds: float) -> None:
        self._note("pop3.line-deadline", seconds=f"{seconds:g}")
        self._timed_out()

    def _timed_out(self) -> None:
        # RFC 1939 §3: on the autologout timer the server closes without a reply and
        # without entering UPDATE.
        self._note("pop3.autologout")
        self._finish("idle timeout")

    def shutdown(self) -> None:
        if not self.closed:
            self._reply(R.SHUTDOWN)
            self._finish("server shutdown")

    def refuse_busy(self, address_limit: int | None = None) -> None:
        self._started = True
        if address_limit is None:
            self._reply(R.TOO_MANY_CONNECTIONS)
        else:
            self._reply(R.TOO_MANY_FROM_ADDRESS, limit=address_limit)
        self._finish("too many connections")

    def _on_close(self) -> None:
        """Release the lock; marks not committed by QUIT are dropped (RFC 1939 §6)."""
        drop = self.maildrop
        if drop is None:
            return
        if self.state is not S.UPDATE and drop.marked:
            for number in sorted(drop.marked):
                self._mark_event(drop, number, marked=False)
            self._note("pop3.nothing-removed", count=len(drop.marked))
            drop.marked.clear()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.store.unlock(drop.account, self.session_id)

    def _set_state(self, new: Pop3State) -> None:
        super()._set_state(new)
        self.reader.limit = AUTH_LINE_LIMIT if new is S.AUTH else COMMAND_LINE_LIMIT

    # -- input -------------------------------------------------------------------------------

    def _process(self) -> None:
        while not self.closed and not self._hold_input():
            line = self.reader.next_line()
            if line is None:
                return
            if self.state is S.AUTH:
                self._auth_line(line)
            else:
                self._command_line(line)

    def _refuse(self, problem: str, **params: object) -> None:
        if problem == "line-too-long":
            self._reply(R.LINE_TOO_LONG, None, **params)
            self._note("pop3.line-too-long", limit=params["limit"])
        elif problem == "binary-junk":
            self._reply(R.BAD_BYTES)
            self._note("pop3.binary-junk")
        elif problem == "obsolete":
            self._reply(R.OBSOLETE_COMMAND, verb=params["verb"])
            self._note("pop3.obsolete", verb=params["verb"])
        else:
            self._reply(R.UNKNOWN_COMMAND, None, **params)
            self._note("pop3.unknown-command", verb=str(params["verb"]))

    def _server_bug(self, verb: str) -> None:
        self._reply(R.SERVER_BUG, verb=verb)
        self._note("pop3.server-bug", verb=verb)

    def _out_of_sequence(self, verb: str) -> None:
        if self.state is S.AUTHORIZATION:
            self._reply(R.NOT_LOGGED_IN, verb=verb)
        else:
            self._reply(R.ALREADY_LOGGED_IN, verb=verb)
        self._note("pop3.wrong-state", verb=verb, state=self.state.name)

    # -- AUTHORIZATION ---------------------------------------------------------------------

    @command("CAPA", "CAPA", "RFC 2449 §5")
    def _capa(self, argument: str) -> None:
        if argument:
            self._reply(R.SYNTAX, syntax="CAPA")
            return
        capabilities = [c for c in CAPABILITIES if self.passwords_allowed or c.split()[0] not in ("USER", "SASL")]
        if self.tls_offered:
            capabilities.insert(0, "STLS")
        self._reply(R.CAPA, _lines(capabilities))

    @command("STLS", "STLS", "RFC 2595 §4")
    def _stls(self, argument: str) -> None:
        verdict = self._upgrade_verdict(argument)
        if verdict == "syntax":
            self._reply(R.SYNTAX, syntax="STLS")
            return
        self._reply(_UPGRADE_REPLIES[verdict])
        if verdict == "go-ahead":
            self._starttls_go_ahead()

    def _after_tls(self) -> None:
        self.user = ""  # RFC 2595 §4: what the client said before TLS is forgotten

    def _password_refused(self) -> bool:
        """Refuse a login on a cleartext connection when the server requires TLS."""
        if self.passwords_allowed:
            return False
        self._reply(R.TLS_REQUIRED)
        self._note("pop3.tls-required")
        return True

    @command("USER", "USER <name>", "RFC 1939 §7")
    def _user(self, argument: str) -> None:
        if self._password_refused():
            return
        if not argument or " " in argument:
            self._reply(R.SYNTAX, syntax="USER <name>")
            return
        # Accepted whether or not the account exists: refusing here would tell a
        # stranger which names are real. The verdict comes with PASS.
        self.user = argument
        self._reply(R.USER_OK, user=argument)
        self._note("pop3.user-accepted")

    @command("PASS", "PASS <password>", "RFC 1939 §7")
    def _pass(self, argument: str) -> None:
        if self._password_refused():
            return
        if not self.user:
            self._reply(R.NEED_USER)
            self._note("pop3.pass-before-user")
            return
        if not argument:
            self._reply(R.SYNTAX, syntax="PASS <password>")
            return
        user, self.user = self.user, ""  # after a failure the client starts over with USER
        account = self.store.authenticate(user, argument)
        self._log_in(account.name if account else None, user)

    @command("APOP", "APOP <name> <digest>", "RFC 1939 §7")
    def _apop(self, argument: str) -> None:
        if self._password_refused():
            return
        words = argument.split()
        if len(words) != 2 or len(words[1]) != 32:
            self._reply(R.SYNTAX, syntax="APOP <name> <32 hex digits: MD5 of timestamp+password>")
            return
        name, digest = words
        account = self.store.find_login(name)
        ok = account is not None and hmac.compare_digest(
            apop_digest(self.timestamp, account.password), digest.lower()
        )
        self._log_in(account.name if ok and account else None, name)
        if ok:
            self._note("pop3.apop-md5")

    @command("AUTH", "AUTH <mechanism> [initial-response]", "RFC 5034 §4")
    def _auth(self, argument: str) -> None:
        mechanism, _, initial = argument.partition(" ")
        if not mechanism:
            # Before RFC 5034, clients sent a bare AUTH to list mechanisms; still answered.
            self._reply(R.AUTH_MECHANISMS, _lines(MECHANISMS))
            self._note("pop3.auth-list")
            return
        if self._password_refused():
            return
        if not SaslExchange.supports(mechanism):
            self._reply(R.BAD_MECHANISM, mechanism=mechanism[:40])
            return
        self._sasl = SaslExchange(
            mechanism, self.store, nonce=f"{self.ids.next_id()}.{int(self._now())}", hostname=self.config.hostname
        )
        self._set_state(S.AUTH)
        # RFC 5034 §4: "=" is an initial response of zero length.
        self._sasl_step(self._sasl.start(initial.strip() if initial else None))

    def _auth_line(self, line: Line) -> None:
        assert self._sasl is not None
        self._client_line(line.raw, LineKind.SASL, "AUTH", secret=sasl_response_secret(line, self._sasl))
        self.last_command = "AUTH"
        if line.too_long:
            self._sasl = None
            self._set_state(S.AUTHORIZATION)
            self._reply(R.LINE_TOO_LONG, limit=AUTH_LINE_LIMIT)
            return
        self._sasl_step(self._sasl.respond(line.data.decode("utf-8", errors="replace")))

    def _sasl_step(self, step: Step) -> None:
        if isinstance(step, Challenge):
            challenge = encode_challenge(step.data)
            self._reply(R.AUTH_CHALLENGE, challenge=challenge)
            return
        self._sasl = None
        self._set_state(S.AUTHORIZATION)
        if isinstance(step, Success):
            self._log_in(step.user, step.user)
            return
        assert isinstance(step, Failure)
        if step.reason == "cancelled":
            self._reply(R.AUTH_CANCELLED)
        elif step.reason in ("bad-base64", "malformed"):
            self._reply(R.BAD_BASE64)
        else:
            self._log_in(None, step.user)

    def _log_in(self, account: str | None, given: str) -> None:
        """Open the maildrop of an authenticated account, or refuse (slowly; locked
        out after many failures; hanging up after a few on this connection)."""
        verdict = self._judge_login(given, account is not None)
        if not verdict.accepted or account is None:
            if verdict.lock is not None:
                self._reply(R.LOGIN_LOCKED, scope=verdict.lock.scope, seconds=verdict.lock.seconds)
                self._note("pop3.login-locked", scope=verdict.lock.scope, seconds=verdict.lock.seconds)
            else:
                self._reply(R.AUTH_FAILED)
                self._note("pop3.auth-failed", user=given[:40])
            if verdict.hang_up and not self.closed:
                self._reply(R.TOO_MANY_LOGIN_FAILURES)
                self._note("pop3.too-many-login-failures", limit=self.config.max_login_failures)
                self._finish("too many failed logins")
            return
        if not self.store.lock(account, self.session_id):
            self._reply(R.IN_USE, user=account)
            self._note("pop3.in-use", user=account)
            return
        self.store.refresh(account, INBOX)  # mail other programs delivered, if persistent
        inbox = self.store.mailbox(account, INBOX)
        self.maildrop = Maildrop(account, inbox.uidvalidity, list(inbox.messages), set(), set())
        self._unsubscribe = self.store.subscribe(self._store_changed)
        count, size = self.maildrop.totals()
        self._reply(R.LOGGED_IN, user=account, count=count, size=size)
        self._set_state(S.TRANSACTION)
        folders = [name for name in self.store.account(account).mailboxes if name != INBOX]
        if folders:
            self._note("pop3.only-inbox", folders=", ".join(folders))

    def _store_changed(self, change: StoreChange) -> None:
        drop = self.maildrop
        if (
            drop is not None
            and isinstance(change, MessagesExpunged)
            and change.account == drop.account
            and change.mailbox == INBOX
            and change.origin != self.session_id
        ):
            drop.gone.update(change.uids)

    # -- TRANSACTION ------------------------------------------------------------------------

    def _message(self, argument: str, syntax: str) -> tuple[int, StoredMessage] | None:
        """The message a number names, or an -ERR sent (and None)."""
        drop = self.maildrop
        assert drop is not None
        if not argument.isdigit() or not argument.isascii():
            self._reply(R.SYNTAX, syntax=syntax)
            return None
        number = int(argument)
        if not 1 <= number <= len(drop.messages):
            self._reply(R.NO_SUCH_MESSAGE, count=len(drop.messages))
            return None
        message = drop.messages[number - 1]
        if number in drop.marked:
            self._reply(R.MESSAGE_DELETED, number=number)
            self._note("pop3.marked-message", number=number)
            return None
        if message.uid in drop.gone:
            self._reply(R.MESSAGE_GONE, number=number)
            self._note("pop3.expunged-elsewhere", number=number)
            return None
        return number, message

    @command("STAT", "STAT", "RFC 1939 §5")
    def _stat(self, argument: str) -> None:
        if argument:
            self._reply(R.SYNTAX, syntax="STAT")
            return
        assert self.maildrop is not None
        count, size = self.maildrop.totals()
        self._reply(R.STAT, count=count, size=size)

    @command("LIST", "LIST [msg]", "RFC 1939 §5")
    def _list(self, argument: str) -> None:
        assert self.maildrop is not None
        if argument:
            found = self._message(argument, "LIST [msg]")
            if found is not None:
                number, message = found
                self._reply(R.SCAN_LISTING, number=number, size=wire_form(message).size)
            return
        count, size = self.maildrop.totals()
        lines = (f"{number} {wire_form(message).size}" for number, message in self.maildrop.visible())
        self._reply(R.LIST, _lines(lines), count=count, size=size)

    @command("UIDL", "UIDL [msg]", "RFC 1939 §7")
    def _uidl(self, argument: str) -> None:
        drop = self.maildrop
        assert drop is not None
        if argument:
            found = self._message(argument, "UIDL [msg]")
            if found is not None:
                number, message = found
                self._reply(R.UNIQUE_ID, number=number, uid=drop.unique_id(message))
            return
        lines = (f"{number} {drop.unique_id(message)}" for number, message in drop.visible())
        self._reply(R.UIDL, _lines(lines))

    @command("RETR", "RETR <msg>", "RFC 1939 §5")
    def _retr(self, argument: str) -> None:
        found = self._message(argument, "RETR <msg>")
        if found is None:
            return
        form = wire_form(found[1])
        self._reply(R.RETR, form.stuffed, size=form.size)

    @command("TOP", "TOP <msg> <lines>", "RFC 1939 §7")
    def _top(self, argument: str) -> None:
        words = argument.split(" ")
        syntax = "TOP <msg> <lines>"
        if len(words) != 2 or not words[1].isdigit() or not words[1].isascii():
            self._reply(R.SYNTAX, syntax=syntax)
            return
        found = self._message(words[0], syntax)
        if found is None:
            return
        number, message = found
        self._reply(R.TOP, top_of(wire_form(message).stuffed, int(words[1])), number=number)

    @command("DELE", "DELE <msg>", "RFC 1939 §5")
    def _dele(self, argument: str) -> None:
        found = self._message(argument, "DELE <msg>")
        if found is None:
            return
        drop = self.maildrop
        assert drop is not None
        number = found[0]
        drop.marked.add(number)
        self._reply(R.DELE, number=number)
        self._mark_event(drop, number, marked=True)
        if len(drop.marked) == 1:
            self._note("pop3.dele-marks-only")

    @command("RSET", "RSET", "RFC 1939 §5")
    def _rset(self, argument: str) -> None:
        if argument:
            self._reply(R.SYNTAX, syntax="RSET")
            return
        drop = self.maildrop
        assert drop is not None
        restored = sorted(drop.marked)
        drop.marked.clear()
        count, size = drop.totals()
        self._reply(R.RSET, count=count, size=size)
        for number in restored:
            self._mark_event(drop, number, marked=False)

    @command("NOOP", "NOOP", "RFC 1939 §5")
    def _noop(self, argument: str) -> None:
        if argument:
            self._reply(R.SYNTAX, syntax="NOOP")
            return
        self._reply(R.NOOP)

    @command("QUIT", "QUIT", "RFC 1939 §6")
    def _quit(self, argument: str) -> None:
        drop = self.maildrop
        if self.state is S.AUTHORIZATION or drop is None:
            self._reply(R.BYE)
            self._note("pop3.quit-without-update")
            self._finish("client quit")
            return
        self._set_state(S.UPDATE)
        doomed = [drop.messages[number - 1].uid for number in sorted(drop.marked)]
        try:
            removed = self.store.expunge(drop.account, INBOX, doomed, origin=self.session_id) if doomed else ()
        except StoreError:
            # RFC 1939 §6: an -ERR in UPDATE; RFC 2449's SYS/TEMP says it may work later.
            self._reply(R.WRITE_FAILED)
            self._note("pop3.write-failed", count=len(doomed))
            self._finish("client quit")
            return
        left = len(self.store.mailbox(drop.account, INBOX).messages)
        self._reply(R.BYE_UPDATED, left=left)
        self._note("pop3.update", removed=len(removed))
        self._finish("client quit")

    def _mark_event(self, drop: Maildrop, number: int, *, marked: bool) -> None:
        uid = drop.messages[number - 1].uid
        self._emit(DeletionMarked(self.session_id, self._now(), drop.account, uid, marked, INBOX))


def _lines(items: Iterable[str]) -> bytes:
    """Lines of a multi-line response, CRLF-terminated (none of these start with '.')."""
    return b"".join(f"{item}\r\n".encode("utf-8") for item in items)
