"""SASL mechanisms shared by SMTP AUTH, POP3 AUTH and IMAP AUTHENTICATE.

Each protocol frames challenges its own way (SMTP `334 `, POP3 and IMAP `+ `); the
exchange itself — PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login) and
CRAM-MD5 (RFC 2195) — is the same, so it lives here once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from mailsim.store.store import MailStore

MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5")


@dataclass(frozen=True, slots=True)
class Challenge:
    data: bytes  # raw; the protocol base64-encodes it


@dataclass(frozen=True, slots=True)
class Success:
    user: str


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str  # "bad-credentials", "bad-base64", "malformed", "cancelled"
    user: str = ""


Step = Challenge | Success | Failure


def initial_response_form(mechanism: str) -> str:
    """What an initial response of `mechanism` holds, as `ClientLine.secret` names it:
    PLAIN carries the password, LOGIN's first response only the user name ("")."""
    return {"PLAIN": "sasl-plain", "CRAM-MD5": "digest"}.get(mechanism.upper(), "" if mechanism.upper() == "LOGIN" else "text")


def decode_response(text: str) -> bytes | None:
    """A client's base64 line, or None if it is not valid base64 ("=" is empty)."""
    text = text.strip()
    if text == "=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def encode_challenge(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SaslExchange:
    """One authentication exchange; feed it the client's base64 lines."""

    def __init__(self, mechanism: str, store: MailStore, *, nonce: str, hostname: str) -> None:
        self.mechanism = mechanism.upper()
        self.store = store
        self._nonce = f"<{nonce}@{hostname}>".encode("ascii")
        self._user: str | None = None

    def response_form(self) -> str:
        """What the client's next response line holds (`ClientLine.secret` form):
        "" for LOGIN's user name, which is no secret."""
        if self.mechanism == "LOGIN":
            return "" if self._user is None else "sasl-text"
        return initial_response_form(self.mechanism)

    @staticmethod
    def supports(mechanism: str) -> bool:
        return mechanism.upper() in MECHANISMS

    def start(self, initial: str | None) -> Step:
        """Begin; `initial` is an initial response given on the command line, if any."""
        if self.mechanism == "PLAIN":
            return self.respond(initial) if initial is not None else Challenge(b"")
        if self.mechanism == "LOGIN":
            if initial is not None:
                return self.respond(initial)
            return Challenge(b"Username:")
        if self.mechanism == "CRAM-MD5":
            if initial is not None:
                return Failure("malformed")
            return Challenge(self._nonce)
        return Failure("malformed")

    def respond(self, line: str) -> Step:
        if line.strip() == "*":
            return Failure("cancelled")
        data = decode_response(line)
        if data is None:
            return Failure("bad-base64")
        if self.mechanism == "PLAIN":
            return self._plain(data)
        if self.mechanism == "LOGIN":
            return self._login(data)
        return self._cram_md5(data)

    def _check(self, user: str, password: str) -> Step:
        account = self.store.authenticate(user, password)
        return Success(account.name) if account else Failure("bad-credentials", user)

    def _plain(self, data: bytes) -> Step:
        parts = data.split(b"\0")
        if len(parts) != 3:
            return Failure("malformed")
        authzid, authcid, password = (p.decode("utf-8", errors="replace") for p in parts)
        if authzid and authzid.lower() != authcid.lower():
            return Failure("bad-credentials", authcid)  # no proxy authorization here
        return self._check(authcid, password)

    def _login(self, data: bytes) -> Step:
        text = data.decode("utf-8", errors="replace")
        if self._user is None:
            self._user = text
            return Challenge(b"Password:")
        return self._check(self._user, text)

    def _cram_md5(self, data: bytes) -> Step:
        user, _, digest = data.decode("utf-8", errors="replace").rpartition(" ")
        if not user or not digest:
            return Failure("malformed")
        account = self.store.accounts.get(user.lower())
        if account is None:
            return Failure("bad-credentials", user)
        expected = hmac.new(account.password.encode("utf-8"), self._nonce, "md5").hexdigest()
        if not hmac.compare_digest(expected, digest.lower()):
            return Failure("bad-credentials", user)
        return Success(account.name)
