"""What the mail store holds: accounts, mailboxes and messages.

Messages keep their raw bytes exactly as delivered; everything else (MIME trees,
envelopes, search indexes) is derived from those bytes by the layers above.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field
from datetime import datetime

INBOX = "INBOX"
HIERARCHY_DELIMITER = "/"
# Longest mailbox name, in UTF-8 octets: a Maildir folder is one directory entry
# (at most 255 octets on the usual file systems), named after the whole name.
MAX_MAILBOX_NAME = 200
# Per-account storage quota in octets when neither the world nor the command line
# sets one: room for a couple of maximum-size (10 MiB) messages and the samples,
# small enough that a class of 60 filling every mailbox stays under 2 GB of memory.
DEFAULT_QUOTA = 25 * 1024 * 1024


class SystemFlag(enum.StrEnum):
    """The IMAP system flags (RFC 3501 §2.3.2); keywords are any other atom."""

    SEEN = "\\Seen"
    ANSWERED = "\\Answered"
    FLAGGED = "\\Flagged"
    DELETED = "\\Deleted"
    DRAFT = "\\Draft"


@dataclass(slots=True)
class StoredMessage:
    uid: int
    raw: bytes
    internal_date: datetime
    flags: set[str] = field(default_factory=set)
    # Anything the layers above cache about this message (parsed structure, ...).
    # Cleared never: raw bytes are immutable once stored.
    cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.raw)


def _uid_of(message: StoredMessage) -> int:
    return message.uid


@dataclass(slots=True)
class Mailbox:
    name: str
    uidvalidity: int
    uidnext: int = 1
    messages: list[StoredMessage] = field(default_factory=list)
    subscribed: bool = True
    special_use: str = ""

    def by_uid(self, uid: int) -> StoredMessage | None:
        # Messages are kept in ascending UID order (UIDs only grow), so a binary
        # search finds one; a scan made `UID STORE 1:*` quadratic.
        index = bisect.bisect_left(self.messages, uid, key=_uid_of)
        if index < len(self.messages) and self.messages[index].uid == uid:
            return self.messages[index]
        return None


@dataclass(slots=True)
class Account:
    name: str
    password: str
    domain: str
    display_name: str = ""
    aliases: tuple[str, ...] = ()
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    #: Storage quota in octets; None: the store's default; 0: unlimited.
    quota: int | None = None

    @property
    def address(self) -> str:
        return f"{self.name}@{self.domain}"

    def local_parts(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message accepted for a remote domain. It never leaves the machine: the queue
    is there so a student can see what relaying would have sent."""

    queue_id: str
    sender: str
    recipient: str
    raw: bytes
    queued_at: datetime
    submitted_by: str


def canonical_mailbox_name(name: str) -> str:
    """INBOX is case-insensitive (RFC 3501 §5.1); every other name is kept as given."""
    if name.upper() == INBOX:
        return INBOX
    head, sep, rest = name.partition(HIERARCHY_DELIMITER)
    if sep and head.upper() == INBOX:
        return INBOX + sep + rest
    return name


def mailbox_name_problem(name: str) -> str:
    """Why `name` cannot be a mailbox (CREATE and RENAME alike), or "" if it can."""
    if not name or name.strip(HIERARCHY_DELIMITER) == "":
        return "the name is empty"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in name):
        return "the name holds control characters"
    if len(name.encode("utf-8")) > MAX_MAILBOX_NAME:
        return f"the name is longer than {MAX_MAILBOX_NAME} octets"
    if any(not level for level in name.split(HIERARCHY_DELIMITER)):
        return f"a hierarchy level is empty (two '{HIERARCHY_DELIMITER}' in a row, or one at the start)"
    return ""


def account_name_problem(name: str) -> str:
    """Why `name` cannot be an account name, or "" if it can. Account names become
    directory names under `--store` and local parts of addresses, so only letters,
    digits, '.', '-' and '_' are allowed, starting with a letter or digit."""
    if not name:
        return "the account name is empty"
    if len(name) > 64:
        return "the account name is longer than 64 characters (RFC 5321 §4.5.3.1.1)"
    if not name[0].isalnum() or not all(char.isalnum() or char in "._-" for char in name):
        return f"account name {name!r} may hold only letters, digits, '.', '-' and '_', starting with a letter or digit"
    if ".." in name:
        return f"account name {name!r} holds '..'"
    return ""
