"""The outgoing queue: mail accepted for another domain, waiting to be relayed.

One entry per (message, recipient), as the accepting server queued it. The queue only
keeps time and outcomes; it never runs anything by itself. Whoever drives it (the app,
`mailsim serve`, a test) asks what is due at a time (`due`, `next_due`), runs those
attempts, and reports each outcome back (`record`). So the queue is a plain,
deterministic function of the clock: a test can fast-forward it, a replay can rebuild
it.

Retries follow the usual MTA shape (Postfix, Exim): a transient failure (4xx, no
answer) is tried again after a growing delay; after `max_attempts` the queue gives up
and the sender gets a bounce, as it does at once for a permanent failure (5xx).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mailsim.store.model import QueuedMessage


class QueueStatus(enum.StrEnum):
    QUEUED = "queued"        # waiting for its first attempt
    DEFERRED = "deferred"    # a transient failure: will be tried again
    DELIVERED = "delivered"  # the next hop accepted it (250 after DATA)
    BOUNCED = "bounced"      # failed for good: a bounce went to the sender

    @property
    def final(self) -> bool:
        return self in (QueueStatus.DELIVERED, QueueStatus.BOUNCED)


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"  # 4xx, or no connection: try again later
    PERMANENT = "permanent"  # 5xx, no such domain: bounce now


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delay after the n-th failed attempt: `first_delay * factor**(n-1)`, at most
    `max_delay`; give up after `max_attempts` attempts."""

    first_delay: float = 60.0
    factor: float = 2.0
    max_delay: float = 3600.0
    max_attempts: int = 5

    def delay_after(self, attempts: int) -> float:
        return min(self.first_delay * self.factor ** max(attempts - 1, 0), self.max_delay)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt: when, to which host, over which session, and the answer."""

    time: float
    host: str
    address: str
    session_id: str
    outcome: Outcome
    code: str = ""
    enhanced: str = ""
    text: str = ""
    # Where the next hop filed it, when that hop was the last one: (account, mailbox, uid).
    filed: tuple[str, str, int] | None = None

    @property
    def diagnostic(self) -> str:
        """The answer as a bounce's Diagnostic-Code writes it (`550 5.1.1 text`)."""
        return " ".join(part for part in (self.code, self.enhanced, self.text) if part)


@dataclass(slots=True)
class QueueEntry:
    message: QueuedMessage
    next_attempt: float
    status: QueueStatus = QueueStatus.QUEUED
    attempts: list[Attempt] = field(default_factory=list)
    bounce_uid: int = 0  # where the bounce landed in the sender's INBOX, when it did

    @property
    def entry_id(self) -> str:
        return self.message.queue_id

    @property
    def recipient(self) -> str:
        return self.message.recipient

    @property
    def domain(self) -> str:
        return self.message.recipient.rpartition("@")[2].lower()

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


class MailQueue:
    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self.entries: list[QueueEntry] = []

    def add(self, message: QueuedMessage, now: float) -> QueueEntry:
        entry = QueueEntry(message, next_attempt=now)
        self.entries.append(entry)
        return entry

    def find(self, queue_id: str, recipient: str = "") -> QueueEntry | None:
        for entry in self.entries:
            if entry.message.queue_id == queue_id and (not recipient or entry.recipient == recipient):
                return entry
        return None

    def pending(self) -> list[QueueEntry]:
        return [e for e in self.entries if not e.status.final]

    def next_due(self) -> float | None:
        """When the earliest waiting entry is due, or None when nothing waits."""
        times = [e.next_attempt for e in self.pending()]
        return min(times) if times else None

    def due(self, now: float) -> list[QueueEntry]:
        """The entries to try at `now`, oldest first."""
        return [e for e in self.pending() if e.next_attempt <= now]

    def record(self, entry: QueueEntry, attempt: Attempt) -> QueueStatus:
        """Note an attempt's outcome; returns the entry's new status. A transient
        failure past the last allowed attempt is final too (the caller bounces)."""
        entry.attempts.append(attempt)
        if attempt.outcome is Outcome.DELIVERED:
            entry.status = QueueStatus.DELIVERED
        elif attempt.outcome is Outcome.PERMANENT or len(entry.attempts) >= self.policy.max_attempts:
            entry.status = QueueStatus.BOUNCED
        else:
            entry.status = QueueStatus.DEFERRED
            entry.next_attempt = attempt.time + self.policy.delay_after(len(entry.attempts))
        return entry.status
