"""SMTP server session, sans-IO (RFC 5321 with the extensions a modern server offers).

Per connection a `SmtpSession`; per mail transaction an `Envelope` (RFC 5321 §3.3:
MAIL starts it, RSET / EHLO / end of DATA end it). Which command is legal when is
decided by one table, `TRANSITIONS`: a (state, verb) pair missing from it is a 503.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from email.utils import format_datetime
from functools import partial
from typing import Any

from mailsim.clock import utc_datetime
from mailsim.events import Delivered, LineKind, Protocol, ReplyClass
from mailsim.protocol.base import Line, ReplyCatalog, ReplySpec, Session, command, sasl_response_secret
from mailsim.protocol.sasl import Challenge, SaslExchange, Success, encode_challenge
from mailsim.store.model import INBOX, QueuedMessage
from mailsim.store.store import MailStore, QuotaExceeded, StoreError


class SmtpState(enum.Enum):
    CONNECTED = "connected"  # greeting sent; the client has not said EHLO/HELO
    GREETED = "greeted"      # client identified; no mail transaction open
    AUTH = "auth"            # inside an AUTH challenge–response exchange
    MAIL = "mail"            # MAIL FROM accepted: reverse-path known
    RCPT = "rcpt"            # at least one RCPT TO accepted
    DATA = "data"            # reading the message, until CRLF.CRLF
    CLOSED = "closed"        # QUIT answered, or the server closed


S = SmtpState
_OPEN = (S.CONNECTED, S.GREETED, S.MAIL, S.RCPT)
_GREETED = (S.GREETED, S.MAIL, S.RCPT)

# (state, verb) -> state after the command succeeds. What is not here is out of
# sequence (503). "<response>" and "<end of data>" are not commands but the lines that
# finish an AUTH exchange and a DATA body.
TRANSITIONS: dict[tuple[SmtpState, str], SmtpState] = {
    **{(s, verb): S.GREETED for s in _OPEN for verb in ("EHLO", "HELO")},
    (S.GREETED, "AUTH"): S.AUTH,
    (S.GREETED, "STARTTLS"): S.CONNECTED,  # RFC 3207 §4.2: the client must EHLO again
    (S.AUTH, "<response>"): S.GREETED,
    (S.GREETED, "MAIL"): S.MAIL,
    (S.MAIL, "RCPT"): S.RCPT,
    (S.RCPT, "RCPT"): S.RCPT,
    (S.RCPT, "DATA"): S.DATA,
    (S.DATA, "<end of data>"): S.GREETED,
    (S.CONNECTED, "RSET"): S.CONNECTED,
    **{(s, "RSET"): S.GREETED for s in _GREETED},
    **{(s, verb): s for s in _OPEN for verb in ("NOOP", "HELP", "VRFY", "EXPN")},
    **{(s, "QUIT"): S.CLOSED for s in _OPEN},
}

# RFC 821 commands that RFC 5321 removed; recognized so the student learns why.
OBSOLETE = ("SEND", "SOML", "SAML", "TURN")

COMMAND_LINE_LIMIT = 512   # RFC 5321 §4.5.3.1.4, CRLF included
TEXT_LINE_LIMIT = 1000     # RFC 5321 §4.5.3.1.6, CRLF included
AUTH_LINE_LIMIT = 12288    # RFC 4954 §4


class SmtpReplies(ReplyCatalog):
    GREETING = ReplySpec("greeting", "220", "{host} ESMTP mailsim ready")
    EHLO = ReplySpec("ehlo", "250", "{host} greets {client}")
    HELO = ReplySpec("helo", "250", "{host} greets {client}")
    OK = ReplySpec("ok", "250", "Ok", "2.0.0")
    SENDER_OK = ReplySpec("sender-ok", "250", "Sender <{address}> ok", "2.1.0")
    RECIPIENT_OK = ReplySpec("recipient-ok", "250", "Recipient <{address}> ok", "2.1.5")
    RELAY_QUEUED = ReplySpec("relay-ok", "250", "Recipient <{address}> ok, will be relayed", "2.1.5")
    QUEUED = ReplySpec("queued", "250", "Ok: queued as {queue_id}", "2.0.0")
    START_DATA = ReplySpec("start-data", "354", "End data with <CR><LF>.<CR><LF>")
    VRFY_CANNOT = ReplySpec("vrfy", "252", "Cannot VRFY user, but will accept message and attempt delivery", "2.0.0")
    HELP = ReplySpec("help", "214", "{text}", "2.0.0")
    BYE = ReplySpec("bye", "221", "Bye", "2.0.0")
    TLS_GO_AHEAD = ReplySpec("tls-go-ahead", "220", "Ready to start TLS", "2.0.0")
    AUTH_OK = ReplySpec("auth-ok", "235", "Authentication successful", "2.7.0")
    AUTH_CHALLENGE = ReplySpec("auth-challenge", "334", "{challenge}")
    TIMEOUT = ReplySpec("timeout", "421", "{host} Error: timeout exceeded", "4.4.2")
    LINE_DEADLINE = ReplySpec("line-deadline", "421", "{host} Error: command not completed within {seconds} s", "4.4.2")
    TOO_MANY_ERRORS = ReplySpec("too-many-errors", "421", "{host} Error: too many errors", "4.7.0")
    SHUTDOWN = ReplySpec("shutdown", "421", "{host} Service not available, closing transmission channel", "4.3.2")
    TOO_MANY_CONNECTIONS = ReplySpec("too-many-connections", "421", "{host} Too many connections, try again later", "4.7.0")
    TOO_MANY_FROM_ADDRESS = ReplySpec(
        "too-many-from-address", "421", "{host} Too many connections from your address (limit {limit}), try again later", "4.7.0"
    )
    TOO_MANY_AUTH_FAILURES = ReplySpec(
        "too-many-auth-failures", "421", "{host} Too many failed authentications, closing connection", "4.7.0"
    )
    AUTH_LOCKED = ReplySpec(
        "auth-locked", "454", "Temporary authentication failure: too many failed logins for this {scope}; try again in {seconds} s", "4.7.0"
    )
    TLS_UNAVAILABLE = ReplySpec("tls-unavailable", "454", "TLS not available: this server was started without a certificate", "4.7.0")
    TOO_MANY_RECIPIENTS = ReplySpec("too-many-recipients", "452", "Too many recipients", "4.5.3")
    MAILBOX_FULL = ReplySpec("mailbox-full", "452", "<{address}>: mailbox full, try again later", "4.2.2")
    WRITE_FAILED = ReplySpec(
        "write-failed", "451", "Could not store the message; nothing was delivered, try again later", "4.3.0"
    )
    SERVER_BUG = ReplySpec("server-bug", "451", "Local error in processing {verb}; the session goes on", "4.3.0")
    GREYLISTED = ReplySpec("greylisted", "450", "<{address}>: Recipient address rejected: Greylisted, try again in {delay} seconds", "4.2.0")
    UNKNOWN_COMMAND = ReplySpec("unknown-command", "500", "Command not recognized: {verb}", "5.5.2")
    LINE_TOO_LONG = ReplySpec("line-too-long", "500", "Line too long (limit {limit} octets)", "5.5.2")
    BAD_BYTES = ReplySpec("bad-bytes", "500", "Command line is not text", "5.5.2")
    SYNTAX = ReplySpec("syntax", "501", "Syntax: {syntax}", "5.5.4")
    BAD_ADDRESS = ReplySpec("bad-address", "501", "Bad address syntax: {address}", "5.1.3")
    BAD_BASE64 = ReplySpec("bad-base64", "501", "Cannot decode response: not base64", "5.5.2")
    AUTH_CANCELLED = ReplySpec("auth-cancelled", "501", "Authentication cancelled", "5.7.0")
    OBSOLETE_COMMAND = ReplySpec("obsolete", "502", "{verb} is obsolete (RFC 5321 Appendix F): not implemented", "5.5.1")
    EXPN_DISABLED = ReplySpec("expn", "502", "EXPN is disabled on this server", "5.5.1")
    NEED_EHLO = ReplySpec("need-ehlo", "503", "Send EHLO or HELO first", "5.5.1")
    NEED_MAIL = ReplySpec("need-mail", "503", "Need MAIL command first", "5.5.1")
    NEED_RCPT = ReplySpec("need-rcpt", "503", "Need RCPT command first", "5.5.1")
    NESTED_MAIL = ReplySpec("nested-mail", "503", "Sender already given; RSET to start over", "5.5.1")
    AUTH_IN_TRANSACTION = ReplySpec("auth-in-transaction", "503", "AUTH not allowed during a mail transaction", "5.5.1")
    TLS_ACTIVE = ReplySpec("tls-active", "503", "TLS already active", "5.5.1")
    TLS_IN_TRANSACTION = ReplySpec("tls-in-transaction", "503", "STARTTLS not allowed during a mail transaction", "5.5.1")
    ALREADY_AUTHENTICATED = ReplySpec("already-authenticated", "503", "Already authenticated", "5.5.1")
    AUTH_NOT_OFFERED = ReplySpec("auth-not-offered", "502", "AUTH not available on this server: it relays nothing", "5.5.1")
    AUTH_REQUIRED = ReplySpec("auth-required", "530", "Authentication required", "5.7.0")
    BAD_MECHANISM = ReplySpec("bad-mechanism", "504", "Unrecognized authentication type {mechanism}", "5.5.4")
    TLS_REQUIRED = ReplySpec("tls-required", "530", "Must issue a STARTTLS command first", "5.7.0")
    AUTH_FAILED = ReplySpec("auth-failed", "535", "Authentication credentials invalid", "5.7.8")
    NO_SUCH_USER = ReplySpec("no-such-user", "550", "<{address}>: no such user here", "5.1.1")
    SIZE_EXCEEDED = ReplySpec("size-exceeded", "552", "Message size exceeds fixed limit of {limit} octets", "5.3.4")
    OVER_QUOTA = ReplySpec(
        "over-quota", "552",
        "<{address}>: mailbox full: a message of {size} octets does not fit ({used} of {limit} octets used)", "5.2.2",
    )
    UTF8_NEEDS_SMTPUTF8 = ReplySpec("needs-smtputf8", "553", "Non-ASCII address requires the SMTPUTF8 parameter", "5.6.7")
    RELAY_DENIED = ReplySpec("relay-denied", "554", "<{address}>: Relay access denied", "5.7.1")
    NO_VALID_RECIPIENTS = ReplySpec("no-valid-recipients", "554", "No valid recipients", "5.5.1")
    DATA_LINE_TOO_LONG = ReplySpec("data-line-too-long", "554", "Message has a line over {limit} octets; not delivered", "5.6.0")
    BAD_PARAMETER = ReplySpec("bad-parameter", "555", "Unsupported parameter {parameter}", "5.5.4")


R = SmtpReplies
_UPGRADE_REPLIES = {"active": R.TLS_ACTIVE, "unavailable": R.TLS_UNAVAILABLE, "go-ahead": R.TLS_GO_AHEAD}


def split_end_of_data(block: bytes, after_crlf: bool) -> tuple[bytes, int, bool]:
    """Complete DATA lines -> (message text before the end-of-data line, octets used,
    whether the end was found). The end is a lone "." after a CRLF, ending in CRLF
    (RFC 5321 §4.1.1.4); `after_crlf` tells whether the text so far ended in CRLF."""
    lead = b"\r\n" if after_crlf else b"\n"
    found = (lead + block).find(b"\r\n.\r\n")
    if found < 0:
        return block, len(block), False
    body_end = found - len(lead) + 2  # through the CRLF before the dot
    return block[:body_end], body_end + 3, True

# A mailbox, loosely: local-part@domain (quoted local parts allowed), or postmaster.
_PATH = re.compile(r"^<(?:@[^:<>]+:)?(?P<address>[^<>]*)>$")
_ADDRESS = re.compile(r'^(?:"[^"]*"|[^\s@"<>]+)@(?:[^\s@<>]+)$')
_DOMAIN = re.compile(r"^(?:\[[^\]]+\]|[A-Za-z0-9\u0080-\U0010ffff](?:[A-Za-z0-9\u0080-\U0010ffff.-]*[A-Za-z0-9\u0080-\U0010ffff])?)$")


@dataclass
class Envelope:
    """One mail transaction (RFC 5321 §3.3): reverse-path, forward-paths, data."""

    sender: str | None = None
    recipients: list[str] = field(default_factory=list)
    refused: int = 0
    declared_size: int = 0
    body_8bit: bool = False
    smtputf8: bool = False
    data: list[bytes] = field(default_factory=list)
    data_size: int = 0
    oversize: bool = False
    line_too_long: bool = False

    @property
    def attempted(self) -> bool:
        return bool(self.recipients) or self.refused > 0


class SmtpSession(Session[SmtpState]):
    protocol = Protocol.SMTP
    initial_state = SmtpState.CONNECTED
    line_limit = COMMAND_LINE_LIMIT
    TRANSITIONS = TRANSITIONS
    OBSOLETE = OBSOLETE

    def __init__(self, store: MailStore, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.helo: str = ""
        self.extended = False
        self.authenticated_as: str = ""
        self.envelope = Envelope()
        self.errors = 0
        self._sasl: SaslExchange | None = None
        self._prev_crlf = True
        self._explained_enhanced = False

    # -- the server's role (SessionConfig.role) ---------------------------------------

    @property
    def is_mx(self) -> bool:
        return self.config.role == "mx"

    @property
    def local_domains(self) -> tuple[str, ...]:
        return tuple(d.lower() for d in self.config.domains) or (self.store.domain,)

    def is_local(self, domain: str) -> bool:
        return domain.lower().rstrip(".") in self.local_domains

    def _greylisted(self, address: str) -> bool:
        """A domain that greylists (RFC 6647) refuses an unknown (client, sender,
        recipient) with 450 until its delay has passed: a real MTA retries, a
        spam cannon usually does not."""
        domain = self.store.domains.get(address.rpartition("@")[2].lower())
        if domain is None or not domain.greylisting.active:
            return False
        client = self.peer.rsplit(":", 1)[0] if self.peer else self.helo
        key = (client, (self.envelope.sender or "").lower(), address.lower())
        now = self._now()
        first = self.store.greylist.setdefault(key, now)
        wait = domain.greylisting.delay - (now - first)
        if wait <= 0:
            return False
        self.envelope.refused += 1
        self._reply(R.GREYLISTED, address=address, delay=int(wait + 0.999))
        self._note("smtp.greylisted", delay=int(domain.greylisting.delay))
        return True

    # -- reply formatting ------------------------------------------------------------

    def _reply(self, spec: ReplySpec, *extra_lines: str, **params: object) -> None:
        """Send a reply: one line, or `code-text` lines then `code text` (RFC 5321 §4.2.1)."""
        text = spec.format(**params)
        lines = [text, *extra_lines]
        enhanced = spec.enhanced
        for index, line in enumerate(lines):
            separator = " " if index == len(lines) - 1 else "-"
            prefix = f"{enhanced} " if enhanced else ""
            self._send_line(f"{spec.code}{separator}{prefix}{line}")
        self._announce_reply(
            spec.code, ReplyClass.of_smtp(int(spec.code)), "\n".join(lines), enhanced=enhanced, key=spec.key
        )
        if enhanced and not self._explained_enhanced:
            self._explained_enhanced = True
            self._note("smtp.enhanced-status-codes")
        if spec.code.startswith("5") or spec.code == "421":
            self._count_error(spec)

    def _count_error(self, spec: ReplySpec) -> None:
        if spec.code == "421":
            return
        self.errors += 1
        if self.errors >= self.config.max_errors and not self.closed:
            self._reply(R.TOO_MANY_ERRORS, host=self.config.hostname)
            self._note("smtp.too-many-errors", limit=self.config.max_errors)
            self._finish("too many errors")

    # -- lifecycle -----------------------------------------------------------------------

    def _greet(self) -> None:
        self._reply(R.GREETING, host=self.config.hostname)

    def _deadline_passed(self, seconds: float) -> None:
        self._reply(R.LINE_DEADLINE, host=self.config.hostname, seconds=f"{seconds:g}")
        self._note("smtp.line-deadline", seconds=f"{seconds:g}")
        self._finish("line deadline")

    def _timed_out(self) -> None:
        self._reply(R.TIMEOUT, host=self.config.hostname)
        self._finish("idle timeout")

    def shutdown(self) -> None:
        """The server is stopping: tell the client (421) and close."""
        if not self.closed:
            self._reply(R.SHUTDOWN, host=self.config.hostname)
            self._finish("server shutdown")

    def refuse_busy(self, address_limit: int | None = None) -> None:
        """Answer a connection over a limit with 421 instead of a greeting."""
        self._started = True
        if address_limit is None:
            self._reply(R.TOO_MANY_CONNECTIONS, host=self.config.hostname)
        else:
            self._reply(R.TOO_MANY_FROM_ADDRESS, host=self.config.hostname, limit=address_limit)
        self._finish("too many connections")

    def _abandon(self) -> None:
        if self.state in (S.MAIL, S.RCPT, S.DATA):
            self._note("smtp.abandoned-transaction")
        self.envelope = Envelope()  # nothing half-received is ever delivered

    def _set_state(self, new: SmtpState) -> None:
        super()._set_state(new)
        self.reader.limit = {S.DATA: TEXT_LINE_LIMIT, S.AUTH: AUTH_LINE_LIMIT}.get(new, COMMAND_LINE_LIMIT)

    # -- input ---------------------------------------------------------------------------

    def _process(self) -> None:
        while not self.closed and not self._hold_input():
            if self.state is S.DATA:
                if not self._data_block():
                    return
                continue
            line = self.reader.next_line()
            if line is None:
                return
            if self.state is S.AUTH:
                self._auth_line(line)
            else:
                self._command_line(line)

    def _refuse(self, problem: str, **params: object) -> None:
        if problem == "line-too-long":
            self._reply(R.LINE_TOO_LONG, **params)
            self._note("smtp.line-too-long", limit=params["limit"])
        elif problem == "binary-junk":
            self._reply(R.BAD_BYTES)
            self._note("smtp.binary-junk")
        elif problem == "obsolete":
            verb = str(params["verb"])
            self._reply(R.OBSOLETE_COMMAND, verb=verb)
            self._note(f"smtp.obsolete-{verb.lower()}")
        else:
            self._reply(R.UNKNOWN_COMMAND, **params)

    def _server_bug(self, verb: str) -> None:
        self._reply(R.SERVER_BUG, verb=verb)
        self._note("smtp.server-bug", verb=verb)

    def _out_of_sequence(self, verb: str) -> None:
        """503 with the reason that fits the state (or 554 when every RCPT failed)."""
        if self.state is S.CONNECTED:
            self._reply(R.NEED_EHLO)
        elif verb == "MAIL":
            self._reply(R.NESTED_MAIL)
        elif verb == "AUTH":
            self._reply(R.AUTH_IN_TRANSACTION)
        elif verb == "STARTTLS":
            self._reply(R.TLS_IN_TRANSACTION)
        elif verb == "RCPT":
            self._reply(R.NEED_MAIL)
        elif verb == "DATA" and self.state is S.MAIL and self.envelope.attempted:
            self._reply(R.NO_VALID_RECIPIENTS)
        elif verb == "DATA":
            self._reply(R.NEED_RCPT if self.state is S.MAIL else R.NEED_MAIL)
        else:
            self._reply(R.NEED_MAIL)
        self._note("smtp.out-of-sequence", verb=verb, state=self.state.value)

    # -- session commands -------------------------------------------------------------

    @command("EHLO", "EHLO <domain or [address]>", "RFC 5321 §4.1.1.1")
    def _ehlo(self, argument: str) -> None:
        if not self._valid_helo(argument, "EHLO <domain>"):
            return
        self._reset_transaction()
        self.helo, self.extended = argument, True
        extensions = [
            "PIPELINING",
            f"SIZE {self.config.max_message_size}",
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
        ]
        if self.tls_offered:
            extensions.append("STARTTLS")
        if self.passwords_allowed and not self.is_mx:  # an MX takes mail for its domains, no logins
            extensions.append("AUTH PLAIN LOGIN CRAM-MD5")
        extensions.append("HELP")
        self._reply(R.EHLO, *extensions, host=self.config.hostname, client=argument)
        if not self.secure and not self.is_mx:
            if self.passwords_allowed:
                self._note("smtp.auth-without-tls")
            else:
                self._note("smtp.auth-after-tls")
        self._set_state(S.GREETED)

    @command("HELO", "HELO <domain>", "RFC 5321 §4.1.1.1")
    def _helo(self, argument: str) -> None:
        if not self._valid_helo(argument, "HELO <domain>"):
            return
        self._reset_transaction()
        self.helo, self.extended = argument, False
        self._reply(R.HELO, host=self.config.hostname, client=argument)
        self._set_state(S.GREETED)

    def _valid_helo(self, argument: str, syntax: str) -> bool:
        if not argument or " " in argument or not _DOMAIN.match(argument):
            self._reply(R.SYNTAX, syntax=syntax)
            return False
        return True

    @command("AUTH", "AUTH <mechanism> [initial-response]", "RFC 4954 §4")
    def _auth(self, argument: str) -> None:
        if self.is_mx:
            self._reply(R.AUTH_NOT_OFFERED)
            self._note("smtp.mx-no-auth")
            return
        if self.authenticated_as:
            self._reply(R.ALREADY_AUTHENTICATED)
            return
        if not self.extended:
            self._reply(R.NEED_EHLO)
            return
        if not self.passwords_allowed:
            self._reply(R.TLS_REQUIRED)
            return
        mechanism, _, initial = argument.partition(" ")
        if not mechanism:
            self._reply(R.SYNTAX, syntax="AUTH <mechanism> [initial-response]")
            return
        if not SaslExchange.supports(mechanism):
            self._reply(R.BAD_MECHANISM, mechanism=mechanism[:40])
            return
        self._sasl = SaslExchange(
            mechanism, self.store, nonce=f"{self.ids.next_id()}.{int(self._now())}", hostname=self.config.hostname
        )
        self._set_state(S.AUTH)
        self._auth_step(self._sasl.start(initial.strip() or None))

    def _auth_line(self, line: Line) -> None:
        assert self._sasl is not None
        self._client_line(line.raw, LineKind.SASL, "AUTH", secret=sasl_response_secret(line, self._sasl))
        if line.too_long:
            self._auth_step(self._sasl.respond("!"))
            return
        self._auth_step(self._sasl.respond(line.data.decode("ascii", errors="replace")))

    def _auth_step(self, step: object) -> None:
        if isinstance(step, Challenge):
            self._reply(R.AUTH_CHALLENGE, challenge=encode_challenge(step.data))
            return
        self._sasl = None
        self._set_state(S.GREETED)
        reason = "" if isinstance(step, Success) else getattr(step, "reason", "malformed")
        if reason == "cancelled":
            self._reply(R.AUTH_CANCELLED)
            return
        if reason in ("bad-base64", "malformed"):
            self._reply(R.BAD_BASE64)
            return
        verdict = self._judge_login(getattr(step, "user", ""), isinstance(step, Success))
        if verdict.accepted and isinstance(step, Success):
            self.authenticated_as = step.user
            self._reply(R.AUTH_OK)
            self._note("smtp.authenticated", user=step.user)
            return
        if verdict.lock is not None:
            self._reply(R.AUTH_LOCKED, scope=verdict.lock.scope, seconds=verdict.lock.seconds)
            self._note("smtp.auth-locked", scope=verdict.lock.scope, seconds=verdict.lock.seconds)
        else:
            self._reply(R.AUTH_FAILED)
        if verdict.hang_up and not self.closed:
            self._reply(R.TOO_MANY_AUTH_FAILURES, host=self.config.hostname)
            self._note("smtp.too-many-auth-failures", limit=self.config.max_login_failures)
            self._finish("too many failed logins")

    @command("STARTTLS", "STARTTLS", "RFC 3207 §4")
    def _starttls(self, argument: str) -> None:
        verdict = self._upgrade_verdict(argument)
        if verdict == "syntax":
            self._reply(R.SYNTAX, syntax="STARTTLS (no parameters)")
            return
        self._reply(_UPGRADE_REPLIES[verdict])
        if verdict == "go-ahead":
            self._set_state(S.CONNECTED)
            self._starttls_go_ahead()

    def _after_tls(self) -> None:
        # RFC 3207 §4.2: discard what the client said before, EHLO argument included;
        # the client greets again and sees the extensions offered over TLS.
        self._reset_transaction()
        self.helo, self.extended, self.authenticated_as = "", False, ""

    @command("MAIL", "MAIL FROM:<reverse-path> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8]", "RFC 5321 §4.1.1.2")
    def _mail(self, argument: str) -> None:
        if self.config.role == "submission" and not self.authenticated_as:
            self._reply(R.AUTH_REQUIRED)
            self._note("smtp.submission-needs-auth")
            return
        parsed = self._parse_path("FROM", argument)
        if parsed is None:
            return
        address, parameters = parsed
        envelope = Envelope(sender=address)
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            name = name.upper()
            if not self.extended:
                self._reply(R.BAD_PARAMETER, parameter=parameter[:40])
                return
            if name == "SIZE" and value.isdigit():
                envelope.declared_size = int(value)
            elif name == "BODY" and value.upper() in ("7BIT", "8BITMIME"):
                envelope.body_8bit = value.upper() == "8BITMIME"
            elif name == "SMTPUTF8" and not value:
                envelope.smtputf8 = True
            elif name == "AUTH" and value:
                pass  # RFC 4954 §5: accepted, and not trusted from an unauthenticated client
            else:
                self._reply(R.BAD_PARAMETER, parameter=parameter[:40])
                return
        if not address.isascii() and not envelope.smtputf8:
            self._reply(R.UTF8_NEEDS_SMTPUTF8)
            return
        if envelope.declared_size > self.config.max_message_size:
            self._reply(R.SIZE_EXCEEDED, limit=self.config.max_message_size)
            return
        self.envelope = envelope
        self._reply(R.SENDER_OK, address=address)
        self._set_state(S.MAIL)

    @command("RCPT", "RCPT TO:<forward-path>", "RFC 5321 §4.1.1.3")
    def _rcpt(self, argument: str) -> None:
        parsed = self._parse_path("TO", argument)
        if parsed is None:
            return
        address, parameters = parsed
        if parameters:
            self._reply(R.BAD_PARAMETER, parameter=parameters[0][:40])
            return
        if not address:
            self._reply(R.BAD_ADDRESS, address="<>")
            return
        if not address.isascii() and not self.envelope.smtputf8:
            self._reply(R.UTF8_NEEDS_SMTPUTF8)
            return
        if len(self.envelope.recipients) >= self.config.max_recipients:
            self._reply(R.TOO_MANY_RECIPIENTS)
            return
        if "@" not in address and address.lower() == "postmaster":
            address = f"postmaster@{self.local_domains[0]}"  # RFC 5321 §4.1.1.3
        domain = address.rpartition("@")[2]
        if self.is_local(domain):
            account = self.store.resolve(address, self.local_domains)
            if account is None:
                self.envelope.refused += 1
                self._reply(R.NO_SUCH_USER, address=address)
                return
            if self._greylisted(address):
                return
            if self.store.is_full(account.name):
                # Temporary: the owner can make room, and the sender's queue retries.
                self.envelope.refused += 1
                self._reply(R.MAILBOX_FULL, address=address)
                self._note("smtp.mailbox-full", address=address)
                return
            if self.envelope.declared_size and not self._fits(address, account.name, self.envelope.declared_size):
                # RFC 1870 §6.2: a SIZE= that cannot fit is refused per recipient, so
                # the others still get the message.
                self.envelope.refused += 1
                return
            spec = R.RECIPIENT_OK
        elif self.authenticated_as and not self.is_mx:
            spec = R.RELAY_QUEUED
        else:
            self.envelope.refused += 1
            self._reply(R.RELAY_DENIED, address=address)
            if self.is_mx:
                self._note("smtp.mx-relay-denied", address=address)
            else:
                self._note("smtp.relay-denied", address=address)
            return
        if address not in self.envelope.recipients:
            self.envelope.recipients.append(address)
        self._reply(spec, address=address)
        self._set_state(S.RCPT)

    def _parse_path(self, keyword: str, argument: str) -> tuple[str, list[str]] | None:
        """`FROM:<a@b> SIZE=10` -> ("a@b", ["SIZE=10"]), or a 501 sent and None."""
        syntax = f"{'MAIL FROM' if keyword == 'FROM' else 'RCPT TO'}:<address>"
        head, colon, rest = argument.partition(":")
        if head.strip().upper() != keyword or not colon:
            self._reply(R.SYNTAX, syntax=syntax)
            return None
        rest = rest.strip()
        if rest.startswith("<"):
            close = rest.find(">")
            if close < 0:
                self._reply(R.SYNTAX, syntax=syntax)
                return None
            path, parameters = rest[: close + 1], rest[close + 1 :].split()
        else:
            # Tolerated, as most servers do, and pointed out to the student.
            words = rest.split()
            if not words:
                self._reply(R.SYNTAX, syntax=syntax)
                return None
            path, parameters = f"<{words[0]}>", words[1:]
            self._note("smtp.no-angle-brackets")
        match = _PATH.match(path)
        if match is None:
            self._reply(R.BAD_ADDRESS, address=path[:80])
            return None
        address = match.group("address")
        if address and not _ADDRESS.match(address) and not (keyword == "TO" and address.lower() == "postmaster"):
            self._reply(R.BAD_ADDRESS, address=path[:80])
            return None
        return address, parameters

    @command("DATA", "DATA", "RFC 5321 §4.1.1.4")
    def _data(self, argument: str) -> None:
        if argument:
            self._reply(R.SYNTAX, syntax="DATA")
            return
        self._prev_crlf = True
        self._reply(R.START_DATA)
        self._set_state(S.DATA)

    def _data_block(self) -> bool:
        """Take every complete DATA line buffered, up to the end-of-data line.

        Returns False when no complete line is waiting. The end is a line holding a
        lone "." that follows a CRLF and ends in CRLF (RFC 5321 §4.1.1.4); a bare-LF
        dot is message text, so SMTP smuggling cannot split one message in two.
        """
        block, truncated_first = self.reader.peek_complete()
        if not block:
            return False
        if truncated_first:
            self.envelope.line_too_long = True
        body, consumed, found = split_end_of_data(block, self._prev_crlf)
        if body:
            self._client_line(body, LineKind.DATA, "DATA")
            self._append_data(body)
            self._prev_crlf = body.endswith(b"\r\n")
        self.reader.consume(consumed)
        if found:
            self._client_line(b".\r\n", LineKind.END_OF_DATA, "DATA")
            self.last_command = "DATA"
            self._guarded("DATA", self._end_of_data)
        return True

    def _append_data(self, body: bytes) -> None:
        """Add complete lines of message text: dot-unstuffed (§4.5.2), bare LF made
        CRLF, length and size limits checked."""
        envelope = self.envelope
        lines = body.split(b"\n")
        lines.pop()  # body ends with LF: the last piece is empty
        if len(body) > TEXT_LINE_LIMIT and max(map(len, lines)) > TEXT_LINE_LIMIT - 1:
            envelope.line_too_long = True
        clean = b"\n." not in body and not body.startswith(b".") and body.count(b"\n") == body.count(b"\r\n")
        if clean:
            data = body
        else:
            fixed = []
            for line in lines:
                if line.endswith(b"\r"):
                    line = line[:-1]
                fixed.append(line[1:] if line.startswith(b".") else line)
            data = b"\r\n".join(fixed) + b"\r\n"
        envelope.data_size += len(data)
        if envelope.data_size > self.config.max_message_size:
            envelope.oversize = True
            envelope.data.clear()
        if not envelope.oversize:
            envelope.data.append(data)

    def _end_of_data(self) -> None:
        envelope = self.envelope
        self._reset_transaction()
        self._set_state(S.GREETED)
        if envelope.oversize:
            self._reply(R.SIZE_EXCEEDED, limit=self.config.max_message_size)
            return
        if envelope.line_too_long:
            self._reply(R.DATA_LINE_TOO_LONG, limit=TEXT_LINE_LIMIT)
            return
        queue_id = self.ids.next_id()
        body = b"".join(envelope.data)
        copies = [(recipient, *self._with_trace(queue_id, envelope, recipient, body)) for recipient in envelope.recipients]
        if not self._all_fit(copies):
            return
        # Local copies first: they are what can fail (a disk write), and a failure
        # removes the copies already made, so nothing is delivered twice on retry.
        delivered: dict[str, Delivered] = {}
        try:
            for recipient, account, raw in copies:
                if account is not None:
                    delivered[recipient] = self._store_copy(queue_id, envelope, recipient, account, raw)
        except StoreError:
            for event in delivered.values():
                self.store.take_back(partial(self.store.expunge, event.account, INBOX, [event.uid]))
            self._reply(R.WRITE_FAILED)
            self._note("smtp.write-failed", queue_id=queue_id)
            return
        for recipient, account, raw in copies:
            if account is None:
                delivered[recipient] = self._queue_remote(queue_id, envelope, recipient, raw)
            self._emit(delivered[recipient])
        self._reply(R.QUEUED, queue_id=queue_id)

    def _all_fit(self, copies: list[tuple[str, str | None, bytes]]) -> bool:
        """One reply covers every recipient (RFC 5321 §4.1.1.4): each local account
        must have room for all its copies, or none is delivered and the sender is
        told whose mailbox is full (552 5.2.2)."""
        needed: dict[str, tuple[str, int]] = {}
        for recipient, account, raw in copies:
            if account is not None:
                first, size = needed.get(account, (recipient, 0))
                needed[account] = (first, size + len(raw))
        return all(self._fits(recipient, account, size) for account, (recipient, size) in needed.items())

    def _fits(self, address: str, account: str, size: int) -> bool:
        """Whether `size` more octets fit in the account; if not, 552 5.2.2 said."""
        try:
            self.store.check_room(account, size)
        except QuotaExceeded as full:
            self._reply(R.OVER_QUOTA, address=address, size=full.size, used=full.used, limit=full.limit)
            self._note("smtp.over-quota", address=address, size=full.size, limit=full.limit)
            return False
        return True

    def _with_trace(self, queue_id: str, envelope: Envelope, recipient: str, body: bytes) -> tuple[str | None, bytes]:
        """The recipient's local account (None: remote) and its copy with trace headers."""
        account = self.store.resolve(recipient, self.local_domains)
        trace = self._trace_headers(queue_id, envelope.sender or "", recipient, envelope, local=account is not None)
        return (account.name if account else None), trace + body

    def _store_copy(self, queue_id: str, envelope: Envelope, recipient: str, account: str, raw: bytes) -> Delivered:
        message = self.store.append(account, INBOX, raw, internal_date=utc_datetime(self.clock))
        return Delivered(
            self.session_id, self._now(), queue_id, envelope.sender or "", recipient, account, INBOX,
            message.uid, message.size,
        )

    def _queue_remote(self, queue_id: str, envelope: Envelope, recipient: str, raw: bytes) -> Delivered:
        sender = envelope.sender or ""
        self.store.queue_outgoing(
            QueuedMessage(queue_id, sender, recipient, raw, utc_datetime(self.clock), self.authenticated_as)
        )
        return Delivered(self.session_id, self._now(), queue_id, sender, recipient, size=len(raw), relayed=True)

    def _trace_headers(self, queue_id: str, sender: str, recipient: str, envelope: Envelope, *, local: bool) -> bytes:
        """Return-Path and Received, as RFC 5321 §4.4 asks of the delivering server."""
        with_protocol = "UTF8SMTP" if envelope.smtputf8 else ("ESMTP" if self.extended else "SMTP")
        if self.authenticated_as:
            with_protocol += "A"  # RFC 3848
        peer_ip = self.peer.rsplit(":", 1)[0] if self.peer else "console"
        date = format_datetime(utc_datetime(self.clock))
        received = (
            f"Received: from {self.helo} ({peer_ip})\r\n"
            f"\tby {self.config.hostname} (mailsim) with {with_protocol} id {queue_id}\r\n"
            f"\tfor <{recipient}>; {date}\r\n"
        )
        return_path = f"Return-Path: <{sender}>\r\n" if local else ""
        return (return_path + received).encode("utf-8")

    @command("RSET", "RSET", "RFC 5321 §4.1.1.5")
    def _rset(self, argument: str) -> None:
        self._reset_transaction()
        self._reply(R.OK)
        self._set_state(S.GREETED if self.helo else S.CONNECTED)

    def _reset_transaction(self) -> None:
        self.envelope = Envelope()

    @command("VRFY", "VRFY <user or address>", "RFC 5321 §3.5.1, §4.1.1.6")
    def _vrfy(self, argument: str) -> None:
        if not argument:
            self._reply(R.SYNTAX, syntax="VRFY <address>")
            return
        self._reply(R.VRFY_CANNOT)
        self._note("smtp.vrfy-policy")

    @command("EXPN", "EXPN <list>", "RFC 5321 §3.5.4, §4.1.1.7")
    def _expn(self, argument: str) -> None:
        self._reply(R.EXPN_DISABLED)
        self._note("smtp.expn-policy")

    @command("HELP", "HELP [command]", "RFC 5321 §4.1.1.8")
    def _help(self, argument: str) -> None:
        topic = argument.upper().strip()
        if topic in self.COMMANDS:
            info = self.COMMANDS[topic]
            self._reply(R.HELP, text=f"{info.syntax} ({info.rfc})")
            return
        verbs = " ".join(sorted(self.COMMANDS))
        self._reply(R.HELP, "Syntax: HELP <command>; RFC 5321", text=f"Commands: {verbs}")

    @command("NOOP", "NOOP", "RFC 5321 §4.1.1.9")
    def _noop(self, argument: str) -> None:
        self._reply(R.OK)

    @command("QUIT", "QUIT", "RFC 5321 §4.1.1.10")
    def _quit(self, argument: str) -> None:
        self._reset_transaction()
        self._reply(R.BYE)
        self._set_state(S.CLOSED)
        self._finish("client quit")
