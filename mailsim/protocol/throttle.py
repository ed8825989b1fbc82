"""The failed-login record one server keeps for all its connections and protocols.

A delay per connection does not stop guessing: twenty connections in parallel guess
twenty times as fast. So failures are counted per account name (as typed, existing
or not, so the answers reveal nothing) and per client address, across SMTP AUTH, POP3
and IMAP alike. Each failure is answered after a delay that doubles with the count,
and at `lockout_after` failures the account or the address is refused for `lockout`
seconds, whatever the password. An address that has logged in to an account before
is not locked out of it by someone else's guessing (the usual defence against a
lock-out used as a weapon); its own failures still count against it.

Pure bookkeeping: the caller passes the time (from the session's injectable clock).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How failed logins are slowed down and locked out (defaults for a classroom)."""

    max_delay: float = 8.0      # the delay doubles with each failure up to this
    lockout_after: int = 10     # failures of one account or one address ...
    lockout: float = 300.0      # ... lock it for this many seconds
    window: float = 900.0       # failures this long ago are forgotten
    max_tracked: int = 10_000   # names and addresses remembered (a flood of names is bounded)


@dataclass(frozen=True, slots=True)
class Lockout:
    """A refusal: `scope` is "account" or "address"; `seconds` until it lifts."""

    scope: str
    seconds: int


@dataclass(slots=True)
class _Record:
    failures: int
    last: float


class LoginThrottle:
    def __init__(self, policy: LoginPolicy | None = None) -> None:
        self.policy = policy or LoginPolicy()
        self._records: dict[tuple[str, str], _Record] = {}
        self._trusted: set[tuple[str, str]] = set()  # (account, address) that logged in

    def locked(self, user: str, address: str, now: float) -> Lockout | None:
        """The lock-out that refuses this login now, if any (the address's first)."""
        for scope, key in self._keys(user, address):
            if scope == "account" and (key, address) in self._trusted:
                continue
            record = self._current(scope, key, now)
            if record is not None and record.failures >= self.policy.lockout_after:
                remaining = record.last + self.policy.lockout - now
                if remaining > 0:
                    return Lockout(scope, max(1, round(remaining)))
        return None

    def delay(self, first: float, failures: int) -> float:
        """Seconds to wait before answering failure number `failures`: `first`,
        doubled for each earlier failure, up to `max_delay`."""
        return min(first * 2 ** max(failures - 1, 0), max(self.policy.max_delay, first))

    def failed(self, user: str, address: str, now: float) -> int:
        """Count a failure; returns the larger count, of the account or the address."""
        worst = 0
        for scope, key in self._keys(user, address):
            record = self._current(scope, key, now)
            if record is None:
                record = self._records[(scope, key)] = _Record(0, now)
            record.failures += 1
            record.last = now
            worst = max(worst, record.failures)
        if len(self._records) > self.policy.max_tracked:
            self._forget(now)
        return worst

    def succeeded(self, user: str, address: str, now: float) -> None:
        """A login worked: the account's count starts over, and this address is
        trusted for it. The address's own count stays (it may guess other accounts)."""
        self._records.pop(("account", user.lower()), None)
        if address:
            if len(self._trusted) > self.policy.max_tracked:
                self._trusted.clear()
            self._trusted.add((user.lower(), address))

    def failures(self, scope: str, key: str, now: float) -> int:
        record = self._current(scope, key.lower() if scope == "account" else key, now)
        return record.failures if record is not None else 0

    # -- bookkeeping --------------------------------------------------------------------

    @staticmethod
    def _keys(user: str, address: str) -> list[tuple[str, str]]:
        keys = [("address", address)] if address else []
        return keys + [("account", user.lower())]

    def _current(self, scope: str, key: str, now: float) -> _Record | None:
        record = self._records.get((scope, key))
        if record is not None and now - record.last > max(self.policy.window, self.policy.lockout):
            del self._records[(scope, key)]
            return None
        return record

    def _forget(self, now: float) -> None:
        horizon = max(self.policy.window, self.policy.lockout)
        for key in [k for k, r in self._records.items() if now - r.last > horizon]:
            del self._records[key]
        if len(self._records) > self.policy.max_tracked:  # still a flood: keep the newest
            newest = sorted(self._records.items(), key=lambda item: item[1].last)[-self.policy.max_tracked // 2 :]
            self._records = dict(newest)
