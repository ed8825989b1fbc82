"""IMAP4rev1 server session, sans-IO (RFC 3501, with IDLE, UIDPLUS, MOVE, NAMESPACE,
UNSELECT, ENABLE, ID, LITERAL+, SASL-IR, SPECIAL-USE, CHILDREN and QUOTA).

Which command is legal when is decided by one table, `TRANSITIONS`: a (state, verb)
pair missing from it is answered `BAD` with the state named. Every status reply the
server can send is a `ReplySpec` in `ImapReplies`, so each has an explanation.

Several sessions share one store. Each session keeps its own view of the selected
mailbox (its message sequence numbers), hears about other sessions' changes through
the store's observers, and reports them only when RFC 3501 §5.2 and §7.4.1 allow:
never an EXPUNGE while answering FETCH, STORE or SEARCH, and everything at NOOP,
IDLE and the end of other commands. During IDLE changes are pushed at once; the
session then calls `on_output` so the transport sends without waiting for input.

A transport that sets `stream_threshold` gets long FETCH answers in pieces: each
`data_to_send()` renders about that many octets more, `has_more_output` says whether
to ask again, and commands pipelined meanwhile wait in the reader.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from mailsim.events import LineKind, Protocol, ReplyClass
from mailsim.protocol.base import (
    Line,
    LoginVerdict,
    ReplyCatalog,
    ReplySpec,
    Session,
    command,
    sasl_response_secret,
)
from mailsim.protocol.classify import IMAP_REPLY_CLASSES
from mailsim.protocol.imap import mailboxes
from mailsim.protocol.imap.fetch import format_flags, item_renderer, sets_seen
from mailsim.protocol.imap.index import RECENT_KEY, attach_index, structure_defects
from mailsim.protocol.imap.mutf7 import encode_mailbox
from mailsim.protocol.imap.parser import (
    AppendArgs,
    AuthenticateArgs,
    Command,
    CopyArgs,
    FetchArgs,
    FetchItem,
    IdArgs,
    ListArgs,
    LoginArgs,
    MailboxArgs,
    NamesArgs,
    ParseError,
    QuotaRootArgs,
    RenameArgs,
    SearchArgs,
    SequenceSet,
    StatusArgs,
    StoreArgs,
    literal_at_end,
    may_hold_secret,
    parse_command,
    secret_span,
    parse_tag_and_verb,
    tag_and_command,
)
from mailsim.protocol.imap.search import SUPPORTED_CHARSETS, SearchContext, compile_key
from mailsim.protocol.sasl import Challenge, SaslExchange, Success, encode_challenge, initial_response_form
from mailsim.store.changes import (
    FlagsChanged,
    MailboxDeleted,
    MailboxRenamed,
    MessageAdded,
    MessagesExpunged,
    StoreChange,
)
from mailsim.store.model import INBOX, Mailbox, StoredMessage
from mailsim.store.store import MailStore, QuotaExceeded, StoreError

log = logging.getLogger(__name__)


class ImapState(enum.Enum):
    NOT_AUTHENTICATED = "not authenticated"  # greeted; LOGIN or AUTHENTICATE next
    AUTHENTICATED = "authenticated"          # logged in, no mailbox selected
    SELECTED = "selected"                    # a mailbox is open (SELECT / EXAMINE)
    IDLE = "idle"                            # IDLE: the server pushes updates until DONE
    LOGOUT = "logout"                        # BYE sent; the connection ends


S = ImapState
_ANY = (S.NOT_AUTHENTICATED, S.AUTHENTICATED, S.SELECTED)
_LOGGED_IN = (S.AUTHENTICATED, S.SELECTED)

# (state, verb) -> state after the command succeeds (RFC 3501 §6 and the extensions'
# RFCs say where each command is valid). What is not here is refused with BAD.
# "DONE" is not a command but the line that ends IDLE; it leads back to whichever
# state IDLE was started in, hence two targets. A SELECT that fails in SELECTED
# leaves AUTHENTICATED.
TRANSITIONS: dict[tuple[ImapState, str], ImapState | tuple[ImapState, ...]] = {
    **{(s, verb): s for s in _ANY for verb in ("CAPABILITY", "NOOP", "ID")},
    **{(s, "LOGOUT"): S.LOGOUT for s in _ANY},
    (S.NOT_AUTHENTICATED, "LOGIN"): S.AUTHENTICATED,
    (S.NOT_AUTHENTICATED, "AUTHENTICATE"): S.AUTHENTICATED,
    (S.NOT_AUTHENTICATED, "STARTTLS"): S.NOT_AUTHENTICATED,
    **{(s, verb): S.SELECTED for s in _LOGGED_IN for verb in ("SELECT", "EXAMINE")},
    **{
        (s, verb): s
        for s in _LOGGED_IN
        for verb in (
            "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB",
            "STATUS", "APPEND", "NAMESPACE", "GETQUOTA", "GETQUOTAROOT", "SETQUOTA",
        )
    },
    (S.AUTHENTICATED, "ENABLE"): S.AUTHENTICATED,
    **{(s, "IDLE"): S.IDLE for s in _LOGGED_IN},
    (S.IDLE, "DONE"): (S.AUTHENTICATED, S.SELECTED),
    **{
        (S.SELECTED, verb): S.SELECTED
        for verb in ("CHECK", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID")
    },
    (S.SELECTED, "CLOSE"): S.AUTHENTICATED,
    (S.SELECTED, "UNSELECT"): S.AUTHENTICATED,
}

CAPABILITIES = (
    "IMAP4rev1", "LITERAL+", "SASL-IR", "AUTH=PLAIN", "AUTH=LOGIN", "AUTH=CRAM-MD5",
    "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "UNSELECT", "ENABLE", "ID", "CHILDREN", "SPECIAL-USE",
    "QUOTA", "QUOTA=RES-STORAGE",
)
# The one quota root of an account (RFC 9208 §3.2): every mailbox of the user
# shares it, as with Dovecot's "User quota".
QUOTA_ROOT = "User quota"
PERMANENT_FLAGS = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)"
LINE_LIMIT = 65536          # octets of one command line (Dovecot's default, 64 KiB)
MAX_COMMAND_LINES = 64      # lines (so: literals) in one command
MAX_BAD_COMMANDS = 20       # consecutive BADs before the server hangs up
# The untagged data responses this server sends (RFC 3501 §7.2-§7.4 and extensions);
# each has an explanation under [untagged] in the explanations file.
UNTAGGED_DATA = (
    "CAPABILITY", "LIST", "LSUB", "STATUS", "SEARCH", "FLAGS", "EXISTS", "RECENT",
    "EXPUNGE", "FETCH", "NAMESPACE", "ID", "ENABLED", "QUOTA", "QUOTAROOT",
)
_NO_EXPUNGE_DURING = ("FETCH", "STORE", "SEARCH")  # RFC 3501 §7.4.1
_STRUCTURE_ITEMS = ("BODY", "BODYSTRUCTURE", "RFC822", "RFC822.HEADER", "RFC822.TEXT")


class ImapReplies(ReplyCatalog):
    """Every status response (OK / NO / BAD / BYE / PREAUTH) and continuation request."""

    GREETING = ReplySpec("greeting", "OK", "[CAPABILITY {capabilities}] {host} IMAP4rev1 mailsim ready")
    CAPABILITY_OK = ReplySpec("capability-ok", "OK", "CAPABILITY completed")
    NOOP_OK = ReplySpec("noop-ok", "OK", "NOOP completed")
    CHECK_OK = ReplySpec("check-ok", "OK", "CHECK completed")
    LOGOUT_BYE = ReplySpec("logout-bye", "BYE", "{host} IMAP4rev1 server logging out")
    LOGOUT_OK = ReplySpec("logout-ok", "OK", "LOGOUT completed")
    LOGIN_OK = ReplySpec("login-ok", "OK", "[CAPABILITY {capabilities}] Logged in as {user}")
    LOGIN_FAILED = ReplySpec("login-failed", "NO", "[AUTHENTICATIONFAILED] Invalid user name or password")
    AUTH_CHALLENGE = ReplySpec("auth-challenge", "+", "{challenge}")
    AUTH_BAD_MECHANISM = ReplySpec("auth-bad-mechanism", "NO", "Unsupported authentication mechanism {mechanism}")
    AUTH_CANCELLED = ReplySpec("auth-cancelled", "BAD", "AUTHENTICATE cancelled")
    AUTH_BAD_BASE64 = ReplySpec("auth-bad-base64", "BAD", "Response is not valid base64")
    AUTH_MALFORMED = ReplySpec("auth-malformed", "BAD", "Malformed {mechanism} response")
    SELECT_OK = ReplySpec("select-ok", "OK", "[READ-WRITE] SELECT completed")
    EXAMINE_OK = ReplySpec("examine-ok", "OK", "[READ-ONLY] {verb} completed")
    PERMANENTFLAGS = ReplySpec("permanentflags", "OK", "[PERMANENTFLAGS {flags}] Flags permitted")
    UNSEEN = ReplySpec("unseen", "OK", "[UNSEEN {number}] First unseen")
    UIDVALIDITY = ReplySpec("uidvalidity", "OK", "[UIDVALIDITY {uidvalidity}] UIDs valid")
    UIDNEXT = ReplySpec("uidnext", "OK", "[UIDNEXT {uidnext}] Predicted next UID")
    NO_SUCH_MAILBOX = ReplySpec("no-such-mailbox", "NO", "[NONEXISTENT] Mailbox does not exist: {mailbox}")
    TRYCREATE = ReplySpec("trycreate", "NO", "[TRYCREATE] Mailbox does not exist: {mailbox}")
    CREATE_OK = ReplySpec("create-ok", "OK", "CREATE completed")
    MAILBOX_EXISTS = ReplySpec("mailbox-exists", "NO", "[ALREADYEXISTS] Mailbox already exists: {mailbox}")
    BAD_MAILBOX_NAME = ReplySpec("bad-mailbox-name", "NO", "[CANNOT] Invalid mailbox name {mailbox}: {problem}")
    DELETE_OK = ReplySpec("delete-ok", "OK", "DELETE completed")
    CANNOT_DELETE_INBOX = ReplySpec("cannot-delete-inbox", "NO", "[CANNOT] INBOX cannot be deleted")
    DELETE_KEEPS_CHILDREN = ReplySpec(
        "delete-keeps-children", "OK", "DELETE completed; its inferior mailboxes remain, {mailbox} is now \\Noselect"
    )
    RENAME_OK = ReplySpec("rename-ok", "OK", "RENAME completed")
    SUBSCRIBE_OK = ReplySpec("subscribe-ok", "OK", "SUBSCRIBE completed")
    UNSUBSCRIBE_OK = ReplySpec("unsubscribe-ok", "OK", "UNSUBSCRIBE completed")
    LIST_OK = ReplySpec("list-ok", "OK", "{verb} completed")
    STATUS_OK = ReplySpec("status-ok", "OK", "STATUS completed")
    APPEND_OK = ReplySpec("append-ok", "OK", "[APPENDUID {uidvalidity} {uid}] APPEND completed")
    APPEND_EMPTY = ReplySpec("append-empty", "NO", "Cannot append an empty message")
    CLOSE_OK = ReplySpec("close-ok", "OK", "CLOSE completed")
    UNSELECT_OK = ReplySpec("unselect-ok", "OK", "UNSELECT completed")
    EXPUNGE_OK = ReplySpec("expunge-ok", "OK", "{verb} completed")
    READ_ONLY = ReplySpec("read-only", "NO", "[READ-ONLY] Mailbox is read-only (opened with EXAMINE)")
    SEARCH_OK = ReplySpec("search-ok", "OK", "{verb} completed")
    BAD_CHARSET = ReplySpec("bad-charset", "NO", "[BADCHARSET ({charsets})] Unsupported charset {charset}")
    FETCH_OK = ReplySpec("fetch-ok", "OK", "{verb} completed")
    STORE_OK = ReplySpec("store-ok", "OK", "{verb} completed")
    PARSE_WARNING = ReplySpec(
        "parse-warning", "NO", "[PARSE] Message {number} has MIME structure defects ({defects}); shown as read"
    )
    STORE_RECENT = ReplySpec("store-recent", "BAD", "\\Recent cannot be stored: only the server sets it")
    COPY_OK = ReplySpec("copy-ok", "OK", "[COPYUID {uidvalidity} {source} {target}] {verb} completed")
    COPY_NOTHING = ReplySpec("copy-nothing", "OK", "{verb} completed: no messages matched")
    MOVE_COPYUID = ReplySpec("move-copyuid", "OK", "[COPYUID {uidvalidity} {source} {target}] Moved")
    BAD_SEQUENCE = ReplySpec(
        "bad-sequence", "BAD", "Invalid message sequence number {number}: the mailbox has {count} messages"
    )
    IDLE_WAITING = ReplySpec("idle-waiting", "+", "idling")
    IDLE_DONE = ReplySpec("idle-done", "OK", "IDLE terminated")
    IDLE_EXPECTED_DONE = ReplySpec("idle-expected-done", "BAD", "Expected DONE to end IDLE")
    NAMESPACE_OK = ReplySpec("namespace-ok", "OK", "NAMESPACE completed")
    ENABLE_OK = ReplySpec("enable-ok", "OK", "ENABLE completed")
    ID_OK = ReplySpec("id-ok", "OK", "ID completed")
    LITERAL_GO_AHEAD = ReplySpec("literal-go-ahead", "+", "Ready for {size} octets of literal data")
    LITERAL_TOO_BIG = ReplySpec("literal-too-big", "NO", "[TOOBIG] Literal of {size} octets exceeds the limit of {limit}")
    LITERAL_PLUS_TOO_BIG = ReplySpec(
        "literal-plus-too-big", "BAD", "Non-synchronizing literal of {size} octets exceeds the limit of {limit}"
    )
    LITERAL_TOO_BIG_PREAUTH = ReplySpec(
        "literal-too-big-preauth", "NO", "[TOOBIG] Literal of {size} octets exceeds the limit of {limit} before login"
    )
    LITERAL_PLUS_TOO_BIG_PREAUTH = ReplySpec(
        "literal-plus-too-big-preauth", "BAD",
        "Non-synchronizing literal of {size} octets exceeds the limit of {limit} before login",
    )
    LITERAL_PLUS_BYE = ReplySpec("literal-plus-bye", "BYE", "Closing the connection rather than read {size} unwanted octets")
    TOO_MANY_LITERALS = ReplySpec("too-many-literals", "BAD", "Command has more than {limit} literals")
    SYNTAX = ReplySpec("syntax", "BAD", "{verb}: {problem}")
    UNTAGGED_SYNTAX = ReplySpec("untagged-syntax", "BAD", "{problem}")
    EMPTY_LINE = ReplySpec("empty-line", "BAD", "Empty command line: send a tag, a command and its arguments")
    UNKNOWN_COMMAND = ReplySpec("unknown-command", "BAD", "Unknown command {verb}")
    WRONG_STATE = ReplySpec("wrong-state", "BAD", "{verb} is not allowed in state {state}{hint}")
    STARTTLS_UNSUPPORTED = ReplySpec("starttls", "BAD", "STARTTLS is not offered: this server was started without a certificate")
    TLS_GO_AHEAD = ReplySpec("tls-go-ahead", "OK", "Begin TLS negotiation now")
    TLS_ACTIVE = ReplySpec("tls-active", "BAD", "TLS is already active")
    TLS_REQUIRED = ReplySpec("tls-required", "NO", "[PRIVACYREQUIRED] {verb} is disabled on an unencrypted connection: STARTTLS first")
    LINE_TOO_LONG = ReplySpec("line-too-long", "BAD", "Command line too long (limit {limit} octets)")
    BAD_BYTES = ReplySpec("bad-bytes", "BAD", "Command line contains NUL or other control characters")
    STORE_REFUSED = ReplySpec("store-refused", "NO", "[NONEXISTENT] The mailbox changed meanwhile: {reason}")
    SERVER_BUG = ReplySpec("server-bug", "NO", "[SERVERBUG] {verb} failed inside the server; the session goes on")
    WRITE_FAILED = ReplySpec(
        "write-failed", "NO", "[SERVERBUG] {verb} could not be written to the mail store; the change was undone"
    )
    OVER_QUOTA = ReplySpec(
        "over-quota", "NO", "[OVERQUOTA] Quota exceeded: {size} more octets do not fit ({used} of {limit} octets used)"
    )
    GETQUOTA_OK = ReplySpec("getquota-ok", "OK", "{verb} completed")
    NO_SUCH_QUOTA_ROOT = ReplySpec("no-such-quota-root", "NO", "[NONEXISTENT] No quota root {root}; try GETQUOTAROOT INBOX")
    SETQUOTA_REFUSED = ReplySpec("setquota-refused", "NO", "[NOPERM] Quotas are set by whoever runs the server, not by users")
    TOO_MANY_ERRORS = ReplySpec("too-many-errors", "BYE", "Too many invalid commands")
    AUTOLOGOUT = ReplySpec("autologout", "BYE", "Autologout; idle for too long")
    LINE_DEADLINE = ReplySpec("line-deadline", "BYE", "Command not completed within {seconds} s")
    SHUTDOWN = ReplySpec("shutdown", "BYE", "{host} IMAP4rev1 server shutting down")
    TOO_MANY_CONNECTIONS = ReplySpec("too-many-connections", "BYE", "Too many connections, try again later")
    TOO_MANY_FROM_ADDRESS = ReplySpec(
        "too-many-from-address", "BYE", "[UNAVAILABLE] Too many connections from your address (limit {limit}), try again later"
    )
    LOGIN_LOCKED = ReplySpec(
        "login-locked", "NO", "[UNAVAILABLE] Too many failed logins for this {scope}; try again in {seconds} s"
    )
    TOO_MANY_LOGIN_FAILURES = ReplySpec("too-many-login-failures", "BYE", "Too many failed logins, closing connection")


R = ImapReplies
_UPGRADE_REPLIES = {"active": R.TLS_ACTIVE, "unavailable": R.STARTTLS_UNSUPPORTED, "go-ahead": R.TLS_GO_AHEAD}
_CLASS = IMAP_REPLY_CLASSES


def _wrong_state_hint(state: ImapState, verb: str) -> str:
    """What would make `verb` legal, for the BAD text the student reads."""
    if state is S.NOT_AUTHENTICATED:
        return "; log in first (LOGIN user password)"
    if verb in ("LOGIN", "AUTHENTICATE"):
        return "; already logged in"
    if verb == "ENABLE":
        return "; ENABLE must come before SELECT (RFC 5161)"
    if state is S.AUTHENTICATED and (S.SELECTED, verb) in TRANSITIONS:
        return "; open a mailbox first (SELECT INBOX)"
    return ""


@dataclass
class SelectedMailbox:
    """The session's view of its open mailbox: the messages in the order the client
    numbers them (which can lag behind the store until updates are reported)."""

    name: str
    read_only: bool
    uidvalidity: int
    messages: list[StoredMessage]
    recent: set[int] = field(default_factory=set)          # UIDs recent in this session
    added: list[StoredMessage] = field(default_factory=list)  # stored, EXISTS not yet sent
    expunged: set[int] = field(default_factory=set)        # gone, EXPUNGE not yet sent
    flags_changed: dict[int, None] = field(default_factory=dict)  # FETCH FLAGS not yet sent
    _index: dict[int, int] | None = None

    def sequence_of(self, uid: int) -> int | None:
        if self._index is None:
            self._index = {m.uid: n for n, m in enumerate(self.messages, 1)}
        return self._index.get(uid)

    def changed(self) -> None:
        self._index = None


class ImapSession(Session[ImapState]):
    protocol = Protocol.IMAP
    initial_state = ImapState.NOT_AUTHENTICATED
    line_limit = LINE_LIMIT
    TRANSITIONS = TRANSITIONS

    def __init__(self, store: MailStore, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.index = attach_index(store)
        self.user = ""
        self.selected: SelectedMailbox | None = None
        self.enabled: set[str] = set()
        #: Set by a transport: called when output is queued with no input to answer
        #: (IDLE updates); the transport then sends it.
        self.on_output: Callable[[], None] | None = None
        self.bad_commands = 0
        self._command = bytearray()
        self._command_lines = 0
        self._literal_total = 0
        self._literal_wanted: int | None = None
        self._sasl: SaslExchange | None = None
        self._sasl_tag = ""
        self._idle_tag = ""
        self._idle_from = S.AUTHENTICATED
        self._verb = ""
        self._line_tag = ""   # the tag and command of the command being read, for its
        self._line_verb = ""  # client-line events (its literals and later lines too)
        self._unsubscribe: Callable[[], None] | None = None
        # mailbox name -> UIDs recent in this session (kept across SELECTs: a message
        # stays \Recent for the session that first saw it, RFC 3501 §2.3.2)
        self._recent: dict[str, set[int]] = {}
        self._push_pending = False
        # With `stream_threshold` set (Session), a FETCH is rendered about that many
        # octets at a time as the socket drains, and commands that arrive meanwhile
        # wait their turn.
        self._producer: Iterator[None] | None = None
        self._producer_tag = ""

    # -- replies -----------------------------------------------------------------------

    def _reply(self, spec: ReplySpec, tag: str = "*", **params: object) -> None:
        text = spec.format(**params)
        line = f"+ {text}" if spec.code == "+" else f"{tag} {spec.code} {text}"
        self._send_line(line)
        reply_class = _CLASS[spec.code]
        if tag == "*" and spec.code == "OK":
            reply_class = ReplyClass.DATA
        self._announce_reply(spec.code, reply_class, text, tag="" if tag == "*" else tag, key=spec.key)

    def _complete(self, tag: str, spec: ReplySpec, **params: object) -> None:
        """The tagged completion, after the updates this moment allows (RFC 3501 §5.2)."""
        self._report_updates(expunges=self._verb not in _NO_EXPUNGE_DURING)
        self._reply(spec, tag, **params)
        if spec.code == "BAD":
            self.bad_commands += 1
            if self.bad_commands >= MAX_BAD_COMMANDS and not self.closed:
                self._reply(R.TOO_MANY_ERRORS)
                self._note("imap.too-many-errors", limit=MAX_BAD_COMMANDS)
                self._finish("too many errors")
        else:
            self.bad_commands = 0

    def _untagged(self, text: str) -> None:
        self._send_line("* " + text)

    def _capabilities(self) -> str:
        """CAPABILITY as it stands on this connection: STARTTLS while it can be used,
        LOGINDISABLED and no AUTH= while passwords must wait for TLS (RFC 3501 §6.2.3)."""
        if self.config.tls_offered or self.config.require_tls_for_auth:
            words = [c for c in CAPABILITIES if self.passwords_allowed or not c.startswith("AUTH=")]
            if self.tls_offered:
                words.insert(1, "STARTTLS")
            if not self.passwords_allowed:
                words.insert(2, "LOGINDISABLED")
            return " ".join(words)
        return " ".join(CAPABILITIES)

    # -- lifecycle -----------------------------------------------------------------------

    def _greet(self) -> None:
        self._reply(R.GREETING, capabilities=self._capabilities(), host=self.config.hostname)

    def _deadline_passed(self, seconds: float) -> None:
        self._reply(R.LINE_DEADLINE, seconds=f"{seconds:g}")
        self._note("imap.line-deadline", seconds=f"{seconds:g}")
        self._set_state(S.LOGOUT)
        self._finish("line deadline")

    def _timed_out(self) -> None:
        self._reply(R.AUTOLOGOUT)
        self._note("imap.autologout")
        self._set_state(S.LOGOUT)
        self._finish("idle timeout")

    def shutdown(self) -> None:
        if not self.closed:
            self._reply(R.SHUTDOWN, host=self.config.hostname)
            self._set_state(S.LOGOUT)
            self._finish("server shutdown")

    def refuse_busy(self, address_limit: int | None = None) -> None:
        self._started = True
        if address_limit is None:
            self._reply(R.TOO_MANY_CONNECTIONS)
        else:
            self._reply(R.TOO_MANY_FROM_ADDRESS, limit=address_limit)
        self._finish("too many connections")

    def _abandon(self) -> None:
        self._producer = None
        if self._command or self._literal_wanted is not None:
            self._note("imap.abandoned-command")
        self._reset_command()

    def _on_close(self) -> None:
        self._close_mailbox()

    # -- input -----------------------------------------------------------------------------

    def _process(self) -> None:
        while not self.closed:
            if self._producer is not None:
                return  # a streamed answer is still going out; input waits in the reader
            if self._hold_input():
                return  # the client has not read its answers yet
            if self._literal_wanted is not None:
                data = self.reader.read_exact(self._literal_wanted)
                if data is None:
                    return
                self._literal_wanted = None
                secret = self._secret_in_part(data)
                self._command += data
                self._client_line(data, LineKind.LITERAL, self._line_verb, self._line_tag, secret=secret)
                continue
            line = self.reader.next_line()
            if line is None:
                return
            if self._sasl is not None:
                self._sasl_line(line)
            elif self.state is S.IDLE:
                self._idle_line(line)
            else:
                self._command_line(line)

    def _reset_command(self) -> None:
        self._command.clear()
        self._command_lines = 0
        self._literal_total = 0
        self._literal_wanted = None

    def _partial_tag(self) -> str:
        try:
            tag, _verb, _ = parse_tag_and_verb(bytes(self._command))
            return tag
        except ValueError:  # ParseError, or anything else the grammar trips on
            return "*"

    def _secret_in_part(self, data: bytes) -> tuple:
        """`ClientLine.secret` of one line or literal of the command being read."""
        prior = len(self._command)
        if not may_hold_secret(self._command if prior else data):
            return ()  # most commands: no copy of a long literal just to look
        span = secret_span(bytes(self._command) + data, initial_response_form)
        if span is None or span[1] <= prior:
            return ()
        return (max(span[0] - prior, 0), span[1] - prior, span[2])
    def _refuse(self, problem: str, **params: object) -> None:
        """Only the shared session calls this here: bytes that are no command at all."""
        self._verb = ""
        self._complete("*", R.BAD_BYTES)

    def _command_line(self, line: Line) -> None:
        if not self._command:  # the first line of a command
            self._line_tag, self._line_verb = ("", "") if line.too_long else tag_and_command(line.data)
        self._client_line(
            line.raw, LineKind.COMMAND, self._line_verb, self._line_tag,
            secret=() if line.too_long else self._secret_in_part(line.data),
        )
        if line.too_long:
            self._reset_command()
            self._verb = ""
            self.last_command = ""
            self._complete("*", R.LINE_TOO_LONG, limit=LINE_LIMIT)
            self._note("imap.line-too-long", limit=LINE_LIMIT)
            return
        self._command += line.data
        self._command_lines += 1
        mark = literal_at_end(line.data)
        if mark is None:
            data = bytes(self._command)
            self._reset_command()
            self._execute(data)
            return
        tag = self._partial_tag()
        self.last_command = self._line_verb or self.last_command  # what a refusal or a "+" answers
        limit = self.config.max_literal
        before_login = self.state is S.NOT_AUTHENTICATED and limit > self.config.max_preauth_literal
        if before_login:
            limit = self.config.max_preauth_literal
        self._literal_total += mark.size
        if self._command_lines > MAX_COMMAND_LINES:
            self._reset_command()
            self._complete(tag, R.TOO_MANY_LITERALS, limit=MAX_COMMAND_LINES)
            return
        if self._literal_total > limit:
            self._reset_command()
            if before_login:
                self._note("imap.literal-too-big-preauth", size=mark.size, limit=limit)
            else:
                self._note("imap.literal-too-big", size=mark.size, limit=limit)
            if mark.synchronizing:
                # The client waits for "+" before sending the octets: refusing now
                # means they are never sent, and nothing is allocated for them.
                spec = R.LITERAL_TOO_BIG_PREAUTH if before_login else R.LITERAL_TOO_BIG
                self._complete(tag, spec, size=mark.size, limit=limit)
            else:
                # With LITERAL+ the octets are already on their way: the only safe
                # answer is to refuse and hang up (RFC 7888 §4).
                spec = R.LITERAL_PLUS_TOO_BIG_PREAUTH if before_login else R.LITERAL_PLUS_TOO_BIG
                self._complete(tag, spec, size=mark.size, limit=limit)
                self._reply(R.LITERAL_PLUS_BYE, size=mark.size)
                self._finish("literal too big")
            return
        if mark.synchronizing and self._command_lines == 1 and not self._literal_allowed_now(tag, mark.size):
            return
        self._command += b"\r\n"
        self._literal_wanted = mark.size
        if mark.synchronizing:
            self._reply(R.LITERAL_GO_AHEAD, size=mark.size)
            self._note("imap.literal-continuation", size=mark.size)

    def _literal_allowed_now(self, tag: str, size: int) -> bool:
        """Before asking for a literal, refuse a command that is wrong in this state,
        or an APPEND whose message cannot fit in the quota (no octet is sent then)."""
        try:
            _tag, verb, _ = parse_tag_and_verb(bytes(self._command))
        except ValueError:
            return True  # the full command will be answered BAD once complete
        refuse: Callable[[], None] | None = None
        if verb in self.COMMANDS and (self.state, verb) not in TRANSITIONS:
            refuse = lambda: self._wrong_state(tag, verb)  # noqa: E731
        elif verb == "APPEND" and self.user:
            try:
                self.store.check_room(self.user, size)
            except QuotaExceeded as full:
                refuse = lambda error=full: self._store_failed(tag, error)  # noqa: E731
        if refuse is None:
            return True
        self._reset_command()
        self._verb = verb
        self.last_command = verb
        refuse()
        return False

    def _execute(self, data: bytes) -> None:
        try:
            self._run_command(data)
        except Exception:
            # Whatever went wrong, the client gets an answer and the session lives on.
            log.exception("IMAP command line %r failed", data[:200])
            self._note("imap.server-bug", verb=self.last_command or "?")
            self._complete(self._tag_of(data), R.SERVER_BUG, verb=self.last_command or "command")

    def _run_command(self, data: bytes) -> None:
        if not data.strip():
            self._verb = self.last_command = ""
            self._complete("*", R.EMPTY_LINE)
            return
        if any(byte < 0x20 and byte not in (0x09, 0x0D, 0x0A) for byte in _outside_literals(data)):
            self._verb = self.last_command = ""
            self._complete(self._tag_of(data), R.BAD_BYTES)
            return
        try:
            tag, verb, _ = parse_tag_and_verb(data)
        except ParseError as problem:
            self._verb = self.last_command = ""
            self._complete(self._tag_of(data), R.UNTAGGED_SYNTAX, problem=str(problem))
            return
        self._verb = verb
        self.last_command = verb
        info = self.COMMANDS.get(verb)
        if info is None:
            self._complete(tag, R.UNKNOWN_COMMAND, verb=verb[:40])
            return
        if (self.state, verb) not in TRANSITIONS:
            self._wrong_state(tag, verb)
            return
        try:
            parsed = parse_command(data)
        except ParseError as problem:
            self._complete(tag, R.SYNTAX, verb=verb, problem=str(problem))
            return
        if parsed.uid:
            self._verb = parsed.verb
            self.last_command = f"UID {parsed.verb}"
        try:
            getattr(self, info.handler)(parsed)
        except StoreError as error:
            self._store_failed(tag, error)

    def _store_failed(self, tag: str, error: StoreError) -> None:
        """A NO for a change the store refused, and the session goes on: the mailbox
        is full, the disk write failed (then nothing changed), or the store changed
        under this command (another session deleted the mailbox, say)."""
        if isinstance(error, QuotaExceeded):
            self._complete(tag, R.OVER_QUOTA, size=error.size, used=error.used, limit=error.limit)
            self._note("imap.over-quota", size=error.size, used=error.used, limit=error.limit)
        elif error.reason == "write-failed":
            self._complete(tag, R.WRITE_FAILED, verb=self.last_command or "command")
            self._note("imap.write-failed", verb=self.last_command or "command")
        else:
            self._complete(tag, R.STORE_REFUSED, reason=error.reason)

    @staticmethod
    def _tag_of(data: bytes) -> str:
        word = data.split(b" ", 1)[0]
        try:
            text = word.decode("ascii")
        except UnicodeDecodeError:
            return "*"
        return text if text and text.isprintable() and "+" not in text and len(text) < 64 else "*"

    def _wrong_state(self, tag: str, verb: str) -> None:
        self._complete(tag, R.WRONG_STATE, verb=verb, state=self.state.value, hint=_wrong_state_hint(self.state, verb))
        self._note("imap.wrong-state", verb=verb, state=self.state.value)

    # -- any state ---------------------------------------------------------------------------

    @command("CAPABILITY", "CAPABILITY", "RFC 3501 §6.1.1")
    def _capability(self, cmd: Command) -> None:
        self._untagged("CAPABILITY " + self._capabilities())
        self._complete(cmd.tag, R.CAPABILITY_OK)

    @command("NOOP", "NOOP", "RFC 3501 §6.1.2")
    def _noop(self, cmd: Command) -> None:
        self._refresh_selected()
        self._complete(cmd.tag, R.NOOP_OK)

    def _refresh_selected(self) -> None:
        """Let the store take in mail other programs delivered to the open mailbox;
        it arrives like any delivery, as EXISTS at the end of this command."""
        if self.selected is not None and self.user:
            self.store.refresh(self.user, self.selected.name)

    @command("LOGOUT", "LOGOUT", "RFC 3501 §6.1.3")
    def _logout(self, cmd: Command) -> None:
        self._reply(R.LOGOUT_BYE, host=self.config.hostname)
        self._reply(R.LOGOUT_OK, cmd.tag)
        self._set_state(S.LOGOUT)
        self._finish("client logged out")

    @command("ID", 'ID ("name" "client" ...) | NIL', "RFC 2971")
    def _id(self, cmd: Command) -> None:
        args: IdArgs = cmd.arguments
        self._untagged('ID ("name" "mailsim" "vendor" "mailsim" "support-url" "https://mailsim.test/")')
        if args.fields:
            self._note("imap.client-id", client=" ".join(f"{k}={v}" for k, v in args.fields)[:200])
        self._complete(cmd.tag, R.ID_OK)

    # -- not authenticated ----------------------------------------------------------------------

    @command("STARTTLS", "STARTTLS", "RFC 3501 §6.2.1")
    def _starttls(self, cmd: Command) -> None:
        verdict = self._upgrade_verdict("")  # the parser has refused arguments already
        self._complete(cmd.tag, _UPGRADE_REPLIES[verdict])
        if verdict == "unavailable":
            self._note("imap.no-starttls")
        elif verdict == "go-ahead":
            self._starttls_go_ahead()

    def _password_refused(self, cmd: Command) -> bool:
        """LOGINDISABLED in force: refuse with PRIVACYREQUIRED (RFC 5530)."""
        if self.passwords_allowed:
            return False
        self._complete(cmd.tag, R.TLS_REQUIRED, verb=cmd.verb)
        self._note("imap.tls-required")
        return True

    @command("LOGIN", "LOGIN <user> <password>", "RFC 3501 §6.2.3")
    def _login(self, cmd: Command) -> None:
        args: LoginArgs = cmd.arguments
        if self._password_refused(cmd):
            return
        if not self.secure:
            self._note("imap.login-cleartext")
        account = self.store.authenticate(args.user, args.password)
        verdict = self._judge_login(args.user, account is not None)
        if not verdict.accepted or account is None:
            self._login_refused(cmd.tag, verdict)
            return
        self._logged_in(account.name)
        self._complete(cmd.tag, R.LOGIN_OK, capabilities=self._capabilities(), user=account.name)

    def _login_refused(self, tag: str, verdict: LoginVerdict) -> None:
        if verdict.lock is not None:
            self._complete(tag, R.LOGIN_LOCKED, scope=verdict.lock.scope, seconds=verdict.lock.seconds)
            self._note("imap.login-locked", scope=verdict.lock.scope, seconds=verdict.lock.seconds)
        else:
            self._complete(tag, R.LOGIN_FAILED)
        if verdict.hang_up and not self.closed:
            self._reply(R.TOO_MANY_LOGIN_FAILURES)
            self._note("imap.too-many-login-failures", limit=self.config.max_login_failures)
            self._set_state(S.LOGOUT)
            self._finish("too many failed logins")

    def _logged_in(self, user: str) -> None:
        self.user = user
        self._set_state(S.AUTHENTICATED)

    @command("AUTHENTICATE", "AUTHENTICATE <mechanism> [initial-response]", "RFC 3501 §6.2.2, RFC 4959")
    def _authenticate(self, cmd: Command) -> None:
        args: AuthenticateArgs = cmd.arguments
        if self._password_refused(cmd):
            return
        if not SaslExchange.supports(args.mechanism):
            self._complete(cmd.tag, R.AUTH_BAD_MECHANISM, mechanism=args.mechanism[:40])
            return
        self._sasl = SaslExchange(
            args.mechanism, self.store, nonce=f"{self.ids.next_id()}.{int(self._now())}", hostname=self.config.hostname
        )
        self._sasl_tag = cmd.tag
        self._sasl_step(self._sasl.start(args.initial))

    def _sasl_line(self, line: Line) -> None:
        assert self._sasl is not None
        self._client_line(
            line.raw, LineKind.SASL, "AUTHENTICATE", self._sasl_tag, secret=sasl_response_secret(line, self._sasl)
        )
        if line.too_long:
            self._sasl = None
            self._complete(self._sasl_tag, R.LINE_TOO_LONG, limit=LINE_LIMIT)
            return
        self._sasl_step(self._sasl.respond(line.data.decode("ascii", "replace")))

    def _sasl_step(self, step: object) -> None:
        assert self._sasl is not None
        tag, mechanism = self._sasl_tag, self._sasl.mechanism
        if isinstance(step, Challenge):
            self._reply(R.AUTH_CHALLENGE, challenge=encode_challenge(step.data))
            return
        self._sasl = None
        reason = getattr(step, "reason", "malformed")
        if isinstance(step, Success) or reason == "bad-credentials":
            verdict = self._judge_login(getattr(step, "user", ""), isinstance(step, Success))
            if verdict.accepted and isinstance(step, Success):
                self._logged_in(step.user)
                self._complete(tag, R.LOGIN_OK, capabilities=self._capabilities(), user=step.user)
            else:
                self._login_refused(tag, verdict)
        elif reason == "cancelled":
            self._complete(tag, R.AUTH_CANCELLED)
        elif reason == "bad-base64":
            self._complete(tag, R.AUTH_BAD_BASE64)
        else:
            self._complete(tag, R.AUTH_MALFORMED, mechanism=mechanism)

    # -- authenticated: mailboxes ----------------------------------------------------------------

    @command("SELECT", "SELECT <mailbox>", "RFC 3501 §6.3.1")
    def _select(self, cmd: Command) -> None:
        self._open(cmd, read_only=self.read_only)

    @command("EXAMINE", "EXAMINE <mailbox>", "RFC 3501 §6.3.2")
    def _examine(self, cmd: Command) -> None:
        self._open(cmd, read_only=True)

    def _open(self, cmd: Command, *, read_only: bool) -> None:
        args: MailboxArgs = cmd.arguments
        if self.selected is not None:
            self._close_mailbox()
            self._set_state(S.AUTHENTICATED)  # RFC 3501 §6.3.1: even if this SELECT fails
        self.store.refresh(self.user, args.mailbox)  # mail other programs delivered
        try:
            mailbox = self.store.mailbox(self.user, args.mailbox)
        except StoreError:
            self._complete(cmd.tag, R.NO_SUCH_MAILBOX, mailbox=_quoted(args.mailbox))
            return
        view = SelectedMailbox(mailbox.name, read_only, mailbox.uidvalidity, list(mailbox.messages))
        self._claim_recent(view)
        self.selected = view
        self._unsubscribe = self.store.subscribe(self._on_store_change)
        in_use = self.index.keywords(self.user, mailbox)
        self._untagged("FLAGS " + format_flags(in_use | {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"}))
        self._reply(R.PERMANENTFLAGS, flags="()" if read_only else PERMANENT_FLAGS)
        self._untagged(f"{len(view.messages)} EXISTS")
        self._untagged(f"{len(view.recent)} RECENT")
        first_unseen = next((n for n, m in enumerate(view.messages, 1) if "\\Seen" not in m.flags), None)
        if first_unseen is not None:
            self._reply(R.UNSEEN, number=first_unseen)
        self._reply(R.UIDVALIDITY, uidvalidity=mailbox.uidvalidity)
        self._reply(R.UIDNEXT, uidnext=mailbox.uidnext)
        self._set_state(S.SELECTED)
        if read_only:
            self._complete(cmd.tag, R.EXAMINE_OK, verb=cmd.verb)
        else:
            self._complete(cmd.tag, R.SELECT_OK)

    def _claim_recent(self, view: SelectedMailbox) -> None:
        """Make the messages no session has seen yet \\Recent in this one.

        Claims only ever happen at SELECT (for the whole mailbox) and on arrival
        (while some session has it selected), so the claimed messages are always a
        prefix: walking back from the newest until a claimed one finds all new ones.
        Expunged UIDs may linger in the set; they are never shown, as no message has them.
        """
        if view.read_only:
            # EXAMINE "MUST NOT cause messages to lose the \Recent flag" (RFC 3501
            # §6.3.2): show what nobody has claimed, claim nothing.
            view.recent = {m.uid for m in view.messages if RECENT_KEY not in m.cache}
            return
        mine = self._recent.setdefault(view.name, set())
        for message in reversed(view.messages):
            if message.cache.setdefault(RECENT_KEY, self.session_id) != self.session_id or message.uid in mine:
                break
            mine.add(message.uid)
        view.recent = mine

    def _close_mailbox(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.selected = None

    @command("CREATE", "CREATE <mailbox>", "RFC 3501 §6.3.3")
    def _create(self, cmd: Command) -> None:
        name = cmd.arguments.mailbox
        try:
            self.store.create_mailbox(self.user, name, subscribed=False)
        except StoreError as error:
            if error.reason == "mailbox-exists":
                self._complete(cmd.tag, R.MAILBOX_EXISTS, mailbox=_quoted(name))
            elif error.reason == "bad-mailbox-name":
                self._complete(cmd.tag, R.BAD_MAILBOX_NAME, mailbox=_quoted(name), problem=error)
            else:
                raise
            return
        self._complete(cmd.tag, R.CREATE_OK)

    @command("DELETE", "DELETE <mailbox>", "RFC 3501 §6.3.4")
    def _delete(self, cmd: Command) -> None:
        name = cmd.arguments.mailbox
        account = self.store.account(self.user)
        if name.upper() == INBOX:
            self._complete(cmd.tag, R.CANNOT_DELETE_INBOX)
            return
        if not self.store.has_mailbox(self.user, name):
            self._complete(cmd.tag, R.NO_SUCH_MAILBOX, mailbox=_quoted(name))
            return
        self.store.delete_mailbox(self.user, name)
        if mailboxes.has_children(account, name):
            # RFC 3501 §6.3.4: the messages go, the inferiors stay, and the name
            # lives on as \Noselect (LIST shows it) while they exist.
            self._complete(cmd.tag, R.DELETE_KEEPS_CHILDREN, mailbox=_quoted(name))
            self._note("imap.delete-keeps-children", mailbox=name)
            return
        self._complete(cmd.tag, R.DELETE_OK)

    @command("RENAME", "RENAME <old> <new>", "RFC 3501 §6.3.5")
    def _rename(self, cmd: Command) -> None:
        args: RenameArgs = cmd.arguments
        try:
            self.store.rename_mailbox(self.user, args.old, args.new)
        except StoreError as error:
            if error.reason == "no-such-mailbox":
                self._complete(cmd.tag, R.NO_SUCH_MAILBOX, mailbox=_quoted(args.old))
            elif error.reason == "mailbox-exists":
                self._complete(cmd.tag, R.MAILBOX_EXISTS, mailbox=_quoted(args.new))
            elif error.reason == "bad-mailbox-name":
                self._complete(cmd.tag, R.BAD_MAILBOX_NAME, mailbox=_quoted(args.new), problem=error)
            else:
                raise
            return
        if args.old.upper() == INBOX:
            self._note("imap.inbox-rename", new=args.new)
        self._complete(cmd.tag, R.RENAME_OK)

    @command("SUBSCRIBE", "SUBSCRIBE <mailbox>", "RFC 3501 §6.3.6")
    def _subscribe(self, cmd: Command) -> None:
        self._set_subscribed(cmd, True, R.SUBSCRIBE_OK)

    @command("UNSUBSCRIBE", "UNSUBSCRIBE <mailbox>", "RFC 3501 §6.3.7")
    def _unsubscribe_command(self, cmd: Command) -> None:
        self._set_subscribed(cmd, False, R.UNSUBSCRIBE_OK)

    def _set_subscribed(self, cmd: Command, subscribed: bool, ok: ReplySpec) -> None:
        name = cmd.arguments.mailbox
        if not self.store.has_mailbox(self.user, name):
            self._complete(cmd.tag, R.NO_SUCH_MAILBOX, mailbox=_quoted(name))
            return
        self.store.set_subscribed(self.user, name, subscribed)
        self._complete(cmd.tag, ok)

    @command("LIST", "LIST <reference> <pattern>", "RFC 3501 §6.3.8, RFC 6154, RFC 3348")
    def _list(self, cmd: Command) -> None:
        self._list_or_lsub(cmd, subscribed_only=False)

    @command("LSUB", "LSUB <reference> <pattern>", "RFC 3501 §6.3.9")
    def _lsub(self, cmd: Command) -> None:
        self._list_or_lsub(cmd, subscribed_only=True)

    def _list_or_lsub(self, cmd: Command, *, subscribed_only: bool) -> None:
        args: ListArgs = cmd.arguments
        if args.pattern == "":
            # RFC 3501 §6.3.8: an empty pattern asks for the delimiter and root.
            self._untagged(f'{cmd.verb} (\\Noselect) "/" ""')
        else:
            account = self.store.account(self.user)
            for name, attributes in mailboxes.listing(account, args.reference, args.pattern, subscribed_only):
                self._untagged(f'{cmd.verb} ({" ".join(attributes)}) "/" {_quoted(encode_mailbox(name))}')
        self._complete(cmd.tag, R.LIST_OK, verb=cmd.verb)

    def _existing_mailbox(self, tag: str, name: str) -> Mailbox | None:
        """The user's mailbox of that name, or None after a NO [NONEXISTENT]."""
        try:
            return self.store.mailbox(self.user, name)
        except StoreError:
            self._complete(tag, R.NO_SUCH_MAILBOX, mailbox=_quoted(name))
            return None

    @command("STATUS", "STATUS <mailbox> (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)", "RFC 3501 §6.3.10")
    def _status(self, cmd: Command) -> None:
        args: StatusArgs = cmd.arguments
        self.store.refresh(self.user, args.mailbox)
        mailbox = self._existing_mailbox(cmd.tag, args.mailbox)
        if mailbox is None:
            return
        values = {
            "MESSAGES": lambda: len(mailbox.messages),
            "RECENT": lambda: sum(1 for m in mailbox.messages if RECENT_KEY not in m.cache),
            "UIDNEXT": lambda: mailbox.uidnext,
            "UIDVALIDITY": lambda: mailbox.uidvalidity,
            "UNSEEN": lambda: sum(1 for m in mailbox.messages if "\\Seen" not in m.flags),
        }
        items = " ".join(f"{item} {values[item]()}" for item in args.items)
        self._untagged(f"STATUS {_quoted(encode_mailbox(mailbox.name))} ({items})")
        self._complete(cmd.tag, R.STATUS_OK)

    @command("APPEND", "APPEND <mailbox> [(flags)] [date-time] {size}", "RFC 3501 §6.3.11, RFC 4315")
    def _append(self, cmd: Command) -> None:
        args: AppendArgs = cmd.arguments
        if not self.store.has_mailbox(self.user, args.mailbox):
            self._complete(cmd.tag, R.TRYCREATE, mailbox=_quoted(args.mailbox))
            self._note("imap.trycreate", mailbox=args.mailbox)
            return
        if not args.message:
            self._complete(cmd.tag, R.APPEND_EMPTY)
            return
        if "\\Recent" in args.flags:
            self._complete(cmd.tag, R.STORE_RECENT)
            return
        message = self.store.append(
            self.user, args.mailbox, args.message, flags=args.flags, internal_date=args.date
        )
        mailbox = self.store.mailbox(self.user, args.mailbox)
        self._complete(cmd.tag, R.APPEND_OK, uidvalidity=mailbox.uidvalidity, uid=message.uid)

    @command("NAMESPACE", "NAMESPACE", "RFC 2342")
    def _namespace(self, cmd: Command) -> None:
        self._untagged('NAMESPACE (("" "/")) NIL NIL')
        self._complete(cmd.tag, R.NAMESPACE_OK)

    @command("GETQUOTAROOT", "GETQUOTAROOT <mailbox>", "RFC 9208 §4.3")
    def _getquotaroot(self, cmd: Command) -> None:
        mailbox = self._existing_mailbox(cmd.tag, cmd.arguments.mailbox)
        if mailbox is None:
            return
        self._untagged(f"QUOTAROOT {_quoted(encode_mailbox(mailbox.name))} {_quoted(QUOTA_ROOT)}")
        self._untagged_quota()
        self._complete(cmd.tag, R.GETQUOTA_OK, verb=cmd.verb)

    @command("GETQUOTA", "GETQUOTA <quota root>", "RFC 9208 §4.2")
    def _getquota(self, cmd: Command) -> None:
        args: QuotaRootArgs = cmd.arguments
        if args.root != QUOTA_ROOT:
            self._complete(cmd.tag, R.NO_SUCH_QUOTA_ROOT, root=_quoted(args.root))
            return
        self._untagged_quota()
        self._complete(cmd.tag, R.GETQUOTA_OK, verb=cmd.verb)

    @command("SETQUOTA", "SETQUOTA <quota root> (STORAGE <KiB>)", "RFC 9208 §4.1")
    def _setquota(self, cmd: Command) -> None:
        self._complete(cmd.tag, R.SETQUOTA_REFUSED)

    def _untagged_quota(self) -> None:
        """`* QUOTA root (STORAGE used limit)` in units of 1024 octets (RFC 9208 §5.1),
        usage rounded up; no limit, no resource (an unlimited account lists none)."""
        limit = self.store.quota(self.user)
        used = -(-self.store.usage(self.user) // 1024)
        resources = f"STORAGE {used} {limit // 1024}" if limit else ""
        self._untagged(f"QUOTA {_quoted(QUOTA_ROOT)} ({resources})")

    @command("ENABLE", "ENABLE <capability> ...", "RFC 5161")
    def _enable(self, cmd: Command) -> None:
        args: NamesArgs = cmd.arguments
        # No capability this server has needs enabling: the ENABLED list is empty.
        self._untagged("ENABLED")
        self._note("imap.enable-nothing", requested=" ".join(args.names))
        self._complete(cmd.tag, R.ENABLE_OK)

    @command("IDLE", "IDLE ... DONE", "RFC 2177")
    def _idle(self, cmd: Command) -> None:
        self._idle_tag = cmd.tag
        self._idle_from = self.state
        self._refresh_selected()
        self._report_updates(expunges=True)
        self._reply(R.IDLE_WAITING)
        self._set_state(S.IDLE)

    def _idle_line(self, line: Line) -> None:
        self._client_line(line.raw, LineKind.DONE, "IDLE", self._idle_tag)
        self._set_state(self._idle_from)
        self._verb = self.last_command = "IDLE"
        if line.data.strip().upper() == b"DONE":
            self._complete(self._idle_tag, R.IDLE_DONE)
        else:
            self._complete(self._idle_tag, R.IDLE_EXPECTED_DONE)

    # -- selected ------------------------------------------------------------------------------

    @command("CHECK", "CHECK", "RFC 3501 §6.4.1")
    def _check(self, cmd: Command) -> None:
        self._refresh_selected()
        self._complete(cmd.tag, R.CHECK_OK)

    @command("CLOSE", "CLOSE", "RFC 3501 §6.4.2")
    def _close(self, cmd: Command) -> None:
        view = self.selected
        assert view is not None
        if not view.read_only:
            doomed = [m.uid for m in view.messages if "\\Deleted" in m.flags]
            if doomed:
                self.store.expunge(self.user, view.name, doomed, origin=self.session_id)
                self._note("imap.close-expunges", count=len(doomed))
        self._close_mailbox()
        self._set_state(S.AUTHENTICATED)
        self._complete(cmd.tag, R.CLOSE_OK)

    @command("UNSELECT", "UNSELECT", "RFC 3691")
    def _unselect(self, cmd: Command) -> None:
        self._close_mailbox()
        self._set_state(S.AUTHENTICATED)
        self._complete(cmd.tag, R.UNSELECT_OK)

    @command("EXPUNGE", "EXPUNGE", "RFC 3501 §6.4.3")
    def _expunge(self, cmd: Command) -> None:
        view = self.selected
        assert view is not None
        verb = "UID EXPUNGE" if cmd.uid else "EXPUNGE"
        if view.read_only:
            self._complete(cmd.tag, R.READ_ONLY)
            return
        self._report_updates(expunges=True)
        candidates = view.messages
        if cmd.uid:
            uids: SequenceSet = cmd.arguments.sequence
            largest = view.messages[-1].uid if view.messages else 0
            candidates = [m for m in view.messages if uids.contains(m.uid, largest)]
        doomed = [m.uid for m in candidates if "\\Deleted" in m.flags]
        self._remove_from_view(view, doomed)
        self.store.expunge(self.user, view.name, doomed, origin=self.session_id)
        self._complete(cmd.tag, R.EXPUNGE_OK, verb=verb)

    @command("SEARCH", "SEARCH [CHARSET <name>] <keys>", "RFC 3501 §6.4.4")
    def _search(self, cmd: Command) -> None:
        args: SearchArgs = cmd.arguments
        view = self.selected
        assert view is not None
        if args.charset is not None and args.charset not in SUPPORTED_CHARSETS:
            self._complete(cmd.tag, R.BAD_CHARSET, charsets=" ".join(SUPPORTED_CHARSETS), charset=args.charset)
            return
        context = SearchContext(
            max_sequence=len(view.messages),
            max_uid=view.messages[-1].uid if view.messages else 0,
            is_recent=lambda m: m.uid in view.recent,
        )
        matches = compile_key(args.key, context)
        found = [
            str(m.uid if cmd.uid else n) for n, m in enumerate(view.messages, 1) if matches(n, m)
        ]
        self._untagged(" ".join(["SEARCH", *found]))
        self._complete(cmd.tag, R.SEARCH_OK, verb=self.last_command)

    @command("FETCH", "FETCH <sequence set> <items | ALL | FAST | FULL>", "RFC 3501 §6.4.5")
    def _fetch(self, cmd: Command) -> None:
        args: FetchArgs = cmd.arguments
        view = self.selected
        assert view is not None
        targets = self._resolve(cmd, args.sequence)
        if targets is None:
            return
        items = args.items
        if cmd.uid and not any(item.name == "UID" for item in items):
            items = (FetchItem("UID"), *items)
        mark_seen = sets_seen(items) and not view.read_only
        with_flags = items
        if mark_seen and not any(item.name == "FLAGS" for item in items):
            with_flags = (*items, FetchItem("FLAGS"))
        steps = self._fetch_steps(cmd, targets, items, with_flags, mark_seen)
        if self.stream_threshold is None:
            for _ in steps:
                pass
        else:
            self._producer, self._producer_tag = steps, cmd.tag
            self._produce()

    def _fetch_steps(
        self,
        cmd: Command,
        targets: list[tuple[int, StoredMessage]],
        items: tuple[FetchItem, ...],
        with_flags: tuple[FetchItem, ...],
        mark_seen: bool,
    ) -> Iterator[None]:
        """FETCH's answer, one block of responses per step, then the tagged OK."""
        view = self.selected
        assert view is not None
        wants_flags = any(item.name == "FLAGS" for item in items)
        reads_structure = any(item.name in _STRUCTURE_ITEMS or item.section is not None for item in items)
        seen_now = 0
        streaming = self.stream_threshold is not None
        batch = _Batch(self._send_raw, min(_Batch.LIMIT, self.stream_threshold or _Batch.LIMIT), by_reference=streaming)
        render_plain = item_renderer(items)
        render_with_flags = item_renderer(with_flags) if with_flags is not items else render_plain
        for number, message in targets:
            wanted = items
            if mark_seen and "\\Seen" not in message.flags:
                if message.uid not in view.expunged:
                    self.store.set_flags(
                        self.user, view.name, message.uid, message.flags | {"\\Seen"}, origin=self.session_id
                    )
                    seen_now += 1
                wanted = with_flags
            flags = format_flags(message.flags, message.uid in view.recent) if wants_flags or wanted is with_flags else ""
            render = render_with_flags if wanted is with_flags else render_plain
            if batch.add(b"* %d FETCH " % number, *render(message, flags), b"\r\n"):
                yield
            if reads_structure:
                problems = structure_defects(message)
                if problems:
                    batch.flush()
                    self._reply(R.PARSE_WARNING, number=number, defects=", ".join(problems))
        batch.flush()
        if seen_now:
            self._note("imap.seen-set", count=seen_now)
        self._complete(cmd.tag, R.FETCH_OK, verb=self.last_command)

    @command("STORE", "STORE <sequence set> [+|-]FLAGS[.SILENT] (<flags>)", "RFC 3501 §6.4.6")
    def _store(self, cmd: Command) -> None:
        args: StoreArgs = cmd.arguments
        view = self.selected
        assert view is not None
        if view.read_only:
            self._complete(cmd.tag, R.READ_ONLY)
            return
        if "\\Recent" in args.flags:
            self._complete(cmd.tag, R.STORE_RECENT)
            return
        targets = self._resolve(cmd, args.sequence)
        if targets is None:
            return
        given = set(args.flags)
        batch = _Batch(self._send_raw)
        changed: list[tuple[int, set[str]]] = []  # (uid, flags before), to take back
        for number, message in targets:
            if message.uid not in view.expunged:
                if args.mode == "+":
                    new = message.flags | given
                elif args.mode == "-":
                    new = message.flags - given
                else:
                    new = given
                if new != message.flags:
                    before = message.flags
                    try:
                        self.store.set_flags(self.user, view.name, message.uid, new, origin=self.session_id)
                    except StoreError:
                        # All or nothing: the flags already changed go back (and are
                        # reported again as FETCH FLAGS before the tagged NO).
                        for uid, old in reversed(changed):
                            self.store.take_back(partial(self.store.set_flags, self.user, view.name, uid, old))
                        batch.flush()
                        raise
                    changed.append((message.uid, before))
            if not args.silent:
                flags = format_flags(message.flags, message.uid in view.recent)
                uid_item = f"UID {message.uid} " if cmd.uid else ""
                batch.add(f"* {number} FETCH ({uid_item}FLAGS {flags})\r\n".encode())
        batch.flush()
        self._complete(cmd.tag, R.STORE_OK, verb=self.last_command)

    @command("COPY", "COPY <sequence set> <mailbox>", "RFC 3501 §6.4.7, RFC 4315")
    def _copy(self, cmd: Command) -> None:
        self._copy_or_move(cmd, move=False)

    @command("MOVE", "MOVE <sequence set> <mailbox>", "RFC 6851")
    def _move(self, cmd: Command) -> None:
        self._copy_or_move(cmd, move=True)

    def _copy_or_move(self, cmd: Command, *, move: bool) -> None:
        args: CopyArgs = cmd.arguments
        view = self.selected
        assert view is not None
        if move and view.read_only:
            self._complete(cmd.tag, R.READ_ONLY)
            return
        targets = self._resolve(cmd, args.sequence)
        if targets is None:
            return
        if not self.store.has_mailbox(self.user, args.mailbox):
            self._complete(cmd.tag, R.TRYCREATE, mailbox=_quoted(args.mailbox))
            self._note("imap.trycreate", mailbox=args.mailbox)
            return
        live = [m for _, m in targets if m.uid not in view.expunged]
        if not live:
            self._complete(cmd.tag, R.COPY_NOTHING, verb=self.last_command)
            return
        destination = self.store.mailbox(self.user, args.mailbox)
        copies = self.store.copy_messages(self.user, destination.name, live, moving=move)
        source_uids = _uid_set([m.uid for m in live])
        target_uids = _uid_set([m.uid for m in copies])
        if not move:
            self._complete(
                cmd.tag, R.COPY_OK, uidvalidity=destination.uidvalidity,
                source=source_uids, target=target_uids, verb=self.last_command,
            )
            return
        # RFC 6851 §4.3: COPYUID in an untagged OK, then the EXPUNGEs, then the tag.
        self._reply(R.MOVE_COPYUID, uidvalidity=destination.uidvalidity, source=source_uids, target=target_uids)
        moved = [m.uid for m in live]
        if destination.name != view.name:
            self._report_updates(expunges=True)
            self._remove_from_view(view, moved)
            self.store.expunge(self.user, view.name, moved, origin=self.session_id)
        self._complete(cmd.tag, R.EXPUNGE_OK, verb=self.last_command)

    @command("UID", "UID FETCH|STORE|SEARCH|COPY|MOVE|EXPUNGE <uid set> ...", "RFC 3501 §6.4.8, RFC 4315")
    def _uid(self, cmd: Command) -> None:
        handlers = {
            "FETCH": self._fetch, "STORE": self._store, "SEARCH": self._search,
            "COPY": self._copy, "MOVE": self._move, "EXPUNGE": self._expunge,
        }
        handlers[cmd.verb](cmd)

    # -- sequence sets -----------------------------------------------------------------------

    def _resolve(self, cmd: Command, sequence: SequenceSet) -> list[tuple[int, StoredMessage]] | None:
        """(sequence number, message) pairs named by a set, or None after a BAD."""
        view = self.selected
        assert view is not None
        messages = view.messages
        if cmd.uid:
            largest = messages[-1].uid if messages else 0
            if not messages:
                return []
            ranges = sequence.ranges
            if len(ranges) == 1 and ranges[0][1] is None:  # n:* — the common case, no scan of ranges
                low = ranges[0][0] or largest
                low = min(low, largest)
                return [(n, m) for n, m in enumerate(messages, 1) if m.uid >= low]
            return [(n, m) for n, m in enumerate(messages, 1) if sequence.contains(m.uid, largest)]
        count = len(messages)
        for start, end in sequence.ranges:
            if start is None or end is None:
                continue  # "n:*" always makes sense, even in an empty mailbox
            for number in (start, end):
                if number > count:
                    self._complete(cmd.tag, R.BAD_SEQUENCE, number=number, count=count)
                    return None
        if not count:
            return []
        return [(n, messages[n - 1]) for n in sequence.resolve(count) if n <= count]

    # -- other sessions' changes ------------------------------------------------------------------

    def _on_store_change(self, change: StoreChange) -> None:
        """Store observer: remember what changed in the selected mailbox."""
        view = self.selected
        if view is None or change.account != self.user:
            return
        if isinstance(change, MailboxRenamed) and change.mailbox == view.name:
            view.name = change.new_name
            return
        if change.mailbox != view.name:
            return
        if isinstance(change, MessageAdded):
            mailbox = self.store.mailbox(self.user, view.name)
            message = mailbox.messages[-1] if mailbox.messages and mailbox.messages[-1].uid == change.uid else None
            message = message or mailbox.by_uid(change.uid)
            if message is None:
                return
            if view.read_only:
                if RECENT_KEY not in message.cache:
                    view.recent.add(message.uid)
            elif message.cache.setdefault(RECENT_KEY, self.session_id) == self.session_id:
                view.recent.add(message.uid)
            view.added.append(message)
        elif isinstance(change, FlagsChanged):
            if change.origin != self.session_id:
                view.flags_changed[change.uid] = None
        elif isinstance(change, MessagesExpunged):
            if change.origin != self.session_id:
                view.expunged.update(change.uids)
        elif isinstance(change, MailboxDeleted):
            view.expunged.update(m.uid for m in view.messages)
        else:
            return
        if self.state is S.IDLE:
            self._report_updates(expunges=True)
            if not self._push_pending:  # one wake-up per burst (a STORE 1:* by another session)
                self._push_pending = True
                self._note("imap.idle-wakeup")
                if self.on_output is not None:
                    self.on_output()

    def data_to_send(self) -> bytes:
        self._push_pending = False
        if self._producer is not None:
            self._produce(resume_input=True)
        return super().data_to_send()

    @property
    def has_more_output(self) -> bool:
        """A streamed FETCH has more to render: call data_to_send() again when the
        transport can take more."""
        return (self._producer is not None and not self.closed) or super().has_more_output

    def _produce(self, *, resume_input: bool = False) -> None:
        """Render the streamed command until about `stream_threshold` octets wait.

        `resume_input`: when it ends, go on with the commands that arrived meanwhile
        (only from data_to_send; inside a handler, the input loop is already running).
        """
        limit = self.stream_threshold or 0
        while self._producer is not None and not self.closed and self._pending_output() < limit:
            try:
                next(self._producer)
            except StopIteration:
                self._producer = None
            except StoreError as error:
                self._producer = None
                self._store_failed(self._producer_tag, error)
            except Exception:
                self._producer = None
                log.exception("IMAP streamed %r failed", self.last_command)
                self._note("imap.server-bug", verb=self.last_command)
                self._complete(self._producer_tag, R.SERVER_BUG, verb=self.last_command)
            if self._producer is None and resume_input:
                self._process()  # the commands that arrived meanwhile

    def _report_updates(self, *, expunges: bool) -> None:
        """Send the untagged EXPUNGE / EXISTS / RECENT / FETCH FLAGS that are due."""
        view = self.selected
        if view is None:
            return
        if expunges and view.expunged:
            held = set(view.expunged)
            self._remove_from_view(view, held)
            view.expunged.clear()
            view.added = [m for m in view.added if m.uid not in held]
        elif view.expunged:
            self._note("imap.expunge-deferred", count=len(view.expunged), verb=self._verb)
        if view.added:
            known = {m.uid for m in view.messages[-len(view.added):]} if view.messages else set()
            for message in view.added:
                if message.uid not in known:
                    view.messages.append(message)
            view.added.clear()
            view.changed()
            self._untagged(f"{len(view.messages)} EXISTS")
            self._untagged(f"{len(view.recent)} RECENT")
        if view.flags_changed:
            for uid in view.flags_changed:
                number = view.sequence_of(uid)
                if number is not None:
                    message = view.messages[number - 1]
                    self._untagged(f"{number} FETCH (FLAGS {format_flags(message.flags, uid in view.recent)})")
            view.flags_changed.clear()

    def _remove_from_view(self, view: SelectedMailbox, uids: Iterable[int]) -> None:
        """Drop messages from the view, sending `* n EXPUNGE` for each (RFC 3501 §7.4.1:
        each EXPUNGE renumbers the messages after it, hence the running offset)."""
        doomed = set(uids)
        if not doomed:
            return
        kept: list[StoredMessage] = []
        removed = 0
        for index, message in enumerate(view.messages):
            if message.uid in doomed:
                self._untagged(f"{index + 1 - removed} EXPUNGE")
                removed += 1
                view.recent.discard(message.uid)
                view.flags_changed.pop(message.uid, None)
            else:
                kept.append(message)
        view.messages = kept
        view.changed()


class _Batch:
    """Gathers many untagged responses into blocks of about 64 KiB: one write and
    one wire event per block instead of one per message. With `by_reference`
    (streaming), a piece longer than a block (a message body) is sent on its own,
    as it is, instead of copied into a block."""

    LIMIT = 65536

    def __init__(self, send: Callable[[bytes], None], limit: int = LIMIT, *, by_reference: bool = False) -> None:
        self._send = send
        self._limit = limit
        self._by_reference = by_reference
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, *pieces: bytes) -> bool:
        """Queue one response, in pieces; True when that sent a block."""
        sent = False
        for piece in pieces:
            if self._by_reference and len(piece) > self._limit:
                self.flush()
                self._send(piece)
                sent = True
                continue
            self._parts.append(piece)
            self._size += len(piece)
        if self._size >= self._limit:
            self.flush()
            return True
        return sent

    def flush(self) -> None:
        if self._parts:
            self._send(b"".join(self._parts))
            self._parts.clear()
            self._size = 0


def _quoted(name: str) -> str:
    """A mailbox name as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_set(uids: list[int]) -> str:
    """Compact `1:3,7` form for COPYUID (order kept, as RFC 4315 pairs them)."""
    parts: list[str] = []
    start: int | None = None
    previous = 0
    for uid in uids:
        if start is None:
            start = previous = uid
        elif uid == previous + 1:
            previous = uid
        else:
            parts.append(str(start) if start == previous else f"{start}:{previous}")
            start = previous = uid
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}:{previous}")
    return ",".join(parts)


def _outside_literals(data: bytes) -> bytes:
    """The command's own text, literal octets left out (they may hold anything)."""
    out = bytearray()
    position = 0
    while position < len(data):
        end = data.find(b"\r\n", position)
        if end < 0:
            out += data[position:]
            break
        line = data[position:end]
        out += line
        mark = literal_at_end(line)
        position = end + 2 + (mark.size if mark else 0)
    return bytes(out)
