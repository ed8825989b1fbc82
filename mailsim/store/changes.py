"""Changes the store tells its observers about.

IMAP sessions turn them into untagged EXISTS/EXPUNGE/FETCH replies and wake IDLE; the
mailbox view highlights them; Maildir persistence writes them to disk.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoreChange:
    account: str
    mailbox: str


@dataclass(frozen=True, slots=True)
class MessageAdded(StoreChange):
    uid: int
    size: int


@dataclass(frozen=True, slots=True)
class FlagsChanged(StoreChange):
    uid: int
    flags: frozenset[str]
    # The session that caused the change, so it can skip telling itself twice.
    origin: str = ""


@dataclass(frozen=True, slots=True)
class MessagesExpunged(StoreChange):
    uids: tuple[int, ...]
    origin: str = ""


@dataclass(frozen=True, slots=True)
class MailboxCreated(StoreChange):
    pass


@dataclass(frozen=True, slots=True)
class MailboxDeleted(StoreChange):
    pass


@dataclass(frozen=True, slots=True)
class MailboxRenamed(StoreChange):
    new_name: str


@dataclass(frozen=True, slots=True)
class SubscriptionChanged(StoreChange):
    subscribed: bool


@dataclass(frozen=True, slots=True)
class MessageQueued(StoreChange):
    """A message for a remote domain entered the outgoing queue (account = submitter)."""

    queue_id: str
    recipient: str


@dataclass(frozen=True, slots=True)
class QueueEntryChanged(StoreChange):
    """A queued message was tried: delivered, deferred for a retry, or bounced
    (account = submitter)."""

    queue_id: str
    recipient: str
    status: str
