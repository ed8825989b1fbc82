"""Time and identifiers, injectable so a session is reproducible byte for byte.

Everything that would make two runs differ — the time in a Received header, a queue
id, an APOP timestamp, a CRAM-MD5 challenge — comes from here.
"""

from __future__ import annotations

import itertools
import secrets
import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FixedClock:
    """A clock that starts at `start` and advances `step` seconds at each reading."""

    def __init__(self, start: float | datetime = 1_790_000_000.0, step: float = 0.0) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._step = step

    def now(self) -> float:
        current = self._now
        self._now += self._step
        return current

    def advance(self, seconds: float) -> None:
        """Jump ahead (the outgoing queue's fast-forward)."""
        self._now += seconds


class SimulatedClock:
    """Another clock plus an offset that only grows: the world's time, which the
    outgoing queue can fast-forward to its next retry without waiting for it."""

    def __init__(self, base: Clock | None = None) -> None:
        self.base = base or SystemClock()
        self.offset = 0.0

    def now(self) -> float:
        return self.base.now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += max(seconds, 0.0)


def utc_datetime(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.now(), tz=timezone.utc)


class IdGenerator(Protocol):
    def next_id(self) -> str:
        """A fresh identifier: letters and digits only."""
        ...


class RandomIds:
    def next_id(self) -> str:
        return secrets.token_hex(6).upper()


class SequentialIds:
    """Ids `<prefix>0001`, `<prefix>0002`, ...: predictable for tests and replays."""

    def __init__(self, prefix: str = "ID") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def next_id(self) -> str:
        return f"{self._prefix}{next(self._counter):04d}"
