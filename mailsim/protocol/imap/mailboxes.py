"""LIST / LSUB matching (RFC 3501 §6.3.8) and mailbox attributes (RFC 3348, RFC 6154)."""

from __future__ import annotations

import re
from functools import lru_cache

from mailsim.store.model import HIERARCHY_DELIMITER, INBOX, Account


@lru_cache(maxsize=256)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """`*` matches anything, `%` anything but the hierarchy delimiter."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "%":
            parts.append(f"[^{re.escape(HIERARCHY_DELIMITER)}]*")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def matches(name: str, reference: str, pattern: str) -> bool:
    full = reference + pattern
    if pattern_regex(full).fullmatch(name):
        return True
    # INBOX is case-insensitive (RFC 3501 §5.1): "inbox" and "Inbox" name it too.
    if name == INBOX or name.startswith(INBOX + HIERARCHY_DELIMITER):
        head, rest = full[: len(INBOX)], full[len(INBOX):]
        if head.upper() == INBOX:
            return bool(pattern_regex(INBOX + rest).fullmatch(name))
    return False


def has_children(account: Account, name: str) -> bool:
    prefix = name + HIERARCHY_DELIMITER
    return any(other.startswith(prefix) for other in account.mailboxes)


def implied_parents(account: Account) -> set[str]:
    """Names that are no mailbox but have inferiors (a DELETEd parent, RFC 3501
    §6.3.4): LIST shows them \\Noselect so clients can still walk the hierarchy."""
    implied = set()
    for name in account.mailboxes:
        parts = name.split(HIERARCHY_DELIMITER)
        for depth in range(1, len(parts)):
            parent = HIERARCHY_DELIMITER.join(parts[:depth])
            if parent not in account.mailboxes:
                implied.add(parent)
    return implied


def attributes(account: Account, name: str) -> list[str]:
    found = ["\\HasChildren" if has_children(account, name) else "\\HasNoChildren"]
    special = account.mailboxes[name].special_use
    if special:
        found.append(special)
    return found


def listing(account: Account, reference: str, pattern: str, subscribed_only: bool) -> list[tuple[str, list[str]]]:
    """(name, attributes) of the mailboxes a LIST or LSUB names, INBOX first."""
    implied = set() if subscribed_only else implied_parents(account)
    names = sorted({*account.mailboxes, *implied}, key=lambda n: (n != INBOX, n))
    out = []
    listed: set[str] = set()
    for name in names:
        if subscribed_only and not account.mailboxes[name].subscribed:
            continue
        if matches(name, reference, pattern):
            if name in account.mailboxes:
                out.append((name, attributes(account, name)))
            else:
                out.append((name, ["\\Noselect", "\\HasChildren"]))
            listed.add(name)
        elif subscribed_only and "%" in pattern:
            # RFC 3501 §6.3.9: "foo/bar" subscribed, "foo" not, pattern "%": LSUB
            # answers "foo", flagged \Noselect.
            parts = name.split(HIERARCHY_DELIMITER)
            for depth in range(len(parts) - 1, 0, -1):
                parent = HIERARCHY_DELIMITER.join(parts[:depth])
                if parent not in listed and matches(parent, reference, pattern):
                    out.append((parent, ["\\Noselect"]))
                    listed.add(parent)
                    break
    return out
