"""Passwords kept out of recordings, with replays still logging in as they did.

A recording holds every client line and the starting world. Written as they are, a
class roster's passwords and every guess typed would sit in a file on disk. Instead
each secret is replaced by a stand-in: the same secret always by the same stand-in,
and an account's password in the starting world by the stand-in its logins used. A
replay then logs in where the recording did and fails where it failed, without ever
knowing a password. The default world's passwords are published (README, lessons)
and stay as they are, so recordings of the usual lab replay byte for byte, APOP and
CRAM-MD5 included (those prove a password without holding it, and are kept; against
a stand-in they no longer match, which a replay shows as a difference).

A stand-in is as long as the secret where it can be (`s7xxxxxx`), so an IMAP literal
`{n}` still counts right.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from functools import lru_cache

from mailsim.events import ClientLine, Event
from mailsim.store.store import MailStore


@lru_cache(maxsize=1)
def _published_accounts() -> frozenset[tuple[str, str]]:
    from mailsim.store.world import load_world

    return frozenset((a.name.lower(), a.password) for a in load_world().accounts)


class SecretStandIns:
    def __init__(self, store: MailStore) -> None:
        self._by_secret: dict[bytes, bytes] = {}
        self._count = 0
        #: account name -> the password the recording's starting world holds
        self.passwords: dict[str, str] = {}
        for account in store.accounts.values():
            secret = account.password.encode("utf-8")
            if (account.name.lower(), account.password) in _published_accounts():
                self._by_secret.setdefault(secret, secret)
            self.passwords[account.name] = self.stand_in(secret).decode("utf-8")

    def stand_in(self, secret: bytes) -> bytes:
        found = self._by_secret.get(secret)
        if found is None:
            self._count += 1
            found = b"s%d" % self._count
            found = found.ljust(len(secret), b"x")
            self._by_secret[secret] = found
        return found

    def event(self, event: Event) -> Event:
        """The event as a recording may keep it."""
        if not isinstance(event, ClientLine) or not event.secret:
            return event
        start, end, form = int(event.secret[0]), int(event.secret[1]), str(event.secret[2])
        replacement = self._replace(event.data[start:end], form)
        data = event.data[:start] + replacement + event.data[end:]
        return dataclasses.replace(event, data=data, secret=(start, start + len(replacement), form))

    def _replace(self, secret: bytes, form: str) -> bytes:
        if form == "digest":
            return secret
        if form == "quoted":  # the stand-in needs no escapes
            return self.stand_in(re.sub(rb"\\(.)", rb"\1", secret))
        if form not in ("sasl-plain", "sasl-text"):
            return self.stand_in(secret)
        try:
            decoded = base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            return self.stand_in(secret)
        if form == "sasl-plain" and decoded.count(b"\0") == 2:
            authzid, authcid, password = decoded.split(b"\0")
            decoded = b"\0".join((authzid, authcid, self.stand_in(password)))
        else:
            decoded = self.stand_in(decoded)
        return base64.b64encode(decoded)
