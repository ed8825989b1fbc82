"""The one mail store that SMTP, POP3 and IMAP share.

All mutation goes through `MailStore` methods, so observers (IMAP sessions, the UI,
Maildir persistence) hear about every change, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from mailsim.clock import Clock, IdGenerator, RandomIds, SystemClock, utc_datetime
from mailsim.store.changes import (
    FlagsChanged,
    MailboxCreated,
    MailboxDeleted,
    MailboxRenamed,
    MessageAdded,
    MessageQueued,
    MessagesExpunged,
    QueueEntryChanged,
    StoreChange,
    SubscriptionChanged,
)
from mailsim.store.dns import Dns, Domain
from mailsim.store.model import (
    HIERARCHY_DELIMITER,
    INBOX,
    Account,
    Mailbox,
    QueuedMessage,
    StoredMessage,
    canonical_mailbox_name,
)
from mailsim.store.queue import MailQueue, QueueEntry

Observer = Callable[[StoreChange], None]

log = logging.getLogger(__name__)


class StoreError(Exception):
    """A request the store refuses; `reason` is a stable key for explanations."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


class MailStore:
    def __init__(
        self,
        domain: str = "mailsim.test",
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
    ) -> None:
        self.domain = domain.lower()
        self.clock: Clock = clock or SystemClock()
        self.ids: IdGenerator = ids or RandomIds()
        self.accounts: dict[str, Account] = {}
        # The world's domains (the first is `domain`, the home of the app's console
        # sessions and of port 2525), its simulated DNS, and the outgoing queue.
        self.domains: dict[str, Domain] = {self.domain: Domain(self.domain)}
        self.dns = Dns()
        self.queue = MailQueue()
        self.outgoing: list[QueuedMessage] = []
        # Greylisting's memory: (client, sender, recipient) -> when first seen.
        self.greylist: dict[tuple[str, str, str], float] = {}
        self._observers: list[Observer] = []
        self._locks: dict[str, str] = {}
        self._uidvalidity_seed = int(self.clock.now())

    # -- observers ---------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        self._observers.append(observer)

        def unsubscribe() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unsubscribe

    def _notify(self, change: StoreChange) -> None:
        for observer in tuple(self._observers):
            try:
                observer(change)
            except Exception:  # an observer must never undo or half-do a change
                log.exception("store observer %r failed on %r", observer, change)

    # -- accounts ----------------------------------------------------------------

    def add_account(
        self,
        name: str,
        password: str,
        *,
        display_name: str = "",
        aliases: Iterable[str] = (),
        domain: str = "",
    ) -> Account:
        """Add (or update) an account. Accounts are keyed by their name; one whose name
        another domain already uses is keyed by its full address instead."""
        domain = (domain or self.domain).lower()
        if domain not in self.domains:
            self.add_domain(Domain(domain))
        local = name.lower().partition("@")[0]
        key = name.lower()
        taken = self.accounts.get(key)
        if taken is not None and taken.domain != domain:
            key = f"{local}@{domain}"
        existing = self.accounts.get(key)
        if existing is not None:
            existing.password = password
            existing.display_name = display_name or existing.display_name
            existing.aliases = tuple(dict.fromkeys((*existing.aliases, *(a.lower() for a in aliases))))
            return existing
        account = Account(
            name=key,
            password=password,
            domain=domain,
            display_name=display_name,
            aliases=tuple(a.lower() for a in aliases),
            local=local if key != local else "",
        )
        self.accounts[key] = account
        self._new_mailbox(account, INBOX)
        return account

    def account(self, name: str) -> Account:
        """The account keyed `name`; a full address finds its account too."""
        found = self.accounts.get(name.lower()) or (self.find_login(name) if "@" in name else None)
        if found is None:
            raise StoreError("no-such-account", f"no account {name!r}")
        return found

    def find_login(self, name: str) -> Account | None:
        """The account a login name means: a full address, or a bare name that only
        one domain of the world has (an ambiguous name needs the full address)."""
        name = name.lower()
        if "@" in name:
            local, _, domain = name.rpartition("@")
            return next(
                (a for a in self.accounts.values() if a.domain == domain and (a.local or a.name) == local), None
            )
        found = [a for a in self.accounts.values() if (a.local or a.name) == name]
        return found[0] if len(found) == 1 else None

    def authenticate(self, name: str, password: str) -> Account | None:
        account = self.find_login(name)
        if account is None or account.password != password:
            return None
        return account

    # -- domains and the simulated DNS ----------------------------------------------

    def add_domain(self, domain: Domain) -> Domain:
        self.domains[domain.name] = domain
        return domain

    def domain_of_host(self, hostname: str) -> Domain | None:
        """The world's domain whose server answers as `hostname`, if any."""
        hostname = hostname.lower().rstrip(".")
        return next((d for d in self.domains.values() if d.hostname == hostname), None)

    def is_local_domain(self, domain: str) -> bool:
        """Whether the home domain's server delivers `domain` itself (not relays it)."""
        return domain.lower().rstrip(".") == self.domain

    def resolve(self, address: str, domains: Iterable[str] | None = None) -> Account | None:
        """The account an address delivers to, or None (unknown, or not one of
        `domains`; by default the home domain)."""
        local, at, domain = address.rpartition("@")
        domain = domain.lower().rstrip(".")
        allowed = {self.domain} if domains is None else {d.lower() for d in domains}
        if not at or domain not in allowed:
            return None
        local = local.lower()
        for account in self.accounts.values():
            if account.domain == domain and local in account.local_parts():
                return account
        return None

    # -- maildrop locks (POP3, RFC 1939 §8) -------------------------------------

    def lock(self, account: str, owner: str) -> bool:
        holder = self._locks.setdefault(account.lower(), owner)
        return holder == owner

    def unlock(self, account: str, owner: str) -> None:
        if self._locks.get(account.lower()) == owner:
            del self._locks[account.lower()]

    def lock_holder(self, account: str) -> str | None:
        return self._locks.get(account.lower())

    # -- mailboxes ---------------------------------------------------------------

    def _new_mailbox(self, account: Account, name: str, special_use: str = "") -> Mailbox:
        self._uidvalidity_seed += 1
        mailbox = Mailbox(name=name, uidvalidity=self._uidvalidity_seed, special_use=special_use)
        account.mailboxes[name] = mailbox
        return mailbox

    def mailbox(self, account: str, name: str) -> Mailbox:
        owner = self.account(account)
        try:
            return owner.mailboxes[canonical_mailbox_name(name)]
        except KeyError:
            raise StoreError("no-such-mailbox", f"no mailbox {name!r}") from None

    def has_mailbox(self, account: str, name: str) -> bool:
        return canonical_mailbox_name(name) in self.account(account).mailboxes

    def create_mailbox(
        self, account: str, name: str, *, special_use: str = "", subscribed: bool = False
    ) -> Mailbox:
        owner = self.account(account)
        name = canonical_mailbox_name(name.rstrip(HIERARCHY_DELIMITER))
        if not name or any(not part for part in name.split(HIERARCHY_DELIMITER)):
            raise StoreError("bad-mailbox-name", f"bad mailbox name {name!r}")
        if name in owner.mailboxes:
            raise StoreError("mailbox-exists", f"mailbox {name!r} exists")
        # RFC 3501 §6.3.3: create the superior hierarchy levels that are missing.
        parts = name.split(HIERARCHY_DELIMITER)
        for depth in range(1, len(parts)):
            parent = HIERARCHY_DELIMITER.join(parts[:depth])
            if parent not in owner.mailboxes:
                self._new_mailbox(owner, parent)
                self._notify(MailboxCreated(owner.name, parent))
        mailbox = self._new_mailbox(owner, name, special_use)
        mailbox.subscribed = subscribed
        self._notify(MailboxCreated(owner.name, name))
        return mailbox

    def delete_mailbox(self, account: str, name: str) -> None:
        owner = self.account(account)
        name = canonical_mailbox_name(name)
        if name == INBOX:
            raise StoreError("cannot-delete-inbox")
        if name not in owner.mailboxes:
            raise StoreError("no-such-mailbox", f"no mailbox {name!r}")
        del owner.mailboxes[name]
        self._notify(MailboxDeleted(owner.name, name))

    def rename_mailbox(self, account: str, old: str, new: str) -> None:
        """Rename a mailbox and its children; renaming INBOX moves its messages
        into the new mailbox and leaves INBOX empty (RFC 3501 §6.3.5)."""
        owner = self.account(account)
        old, new = canonical_mailbox_name(old), canonical_mailbox_name(new)
        if old not in owner.mailboxes:
            raise StoreError("no-such-mailbox", f"no mailbox {old!r}")
        if new in owner.mailboxes:
            raise StoreError("mailbox-exists", f"mailbox {new!r} exists")
        if old == INBOX:
            source = owner.mailboxes[INBOX]
            target = self.create_mailbox(owner.name, new)
            for message in source.messages:
                self._append_to(owner, target, message.raw, message.flags, message.internal_date)
            uids = tuple(m.uid for m in source.messages)
            source.messages.clear()
            if uids:
                self._notify(MessagesExpunged(owner.name, INBOX, uids))
            return
        prefix = old + HIERARCHY_DELIMITER
        renames = [n for n in owner.mailboxes if n == old or n.startswith(prefix)]
        for name in renames:
            mailbox = owner.mailboxes.pop(name)
            mailbox.name = new + name[len(old):]
            owner.mailboxes[mailbox.name] = mailbox
            self._notify(MailboxRenamed(owner.name, name, mailbox.name))

    def set_subscribed(self, account: str, name: str, subscribed: bool) -> None:
        mailbox = self.mailbox(account, name)
        mailbox.subscribed = subscribed
        self._notify(SubscriptionChanged(self.account(account).name, mailbox.name, subscribed))

    # -- messages ----------------------------------------------------------------

    def append(
        self,
        account: str,
        mailbox: str,
        raw: bytes,
        *,
        flags: Iterable[str] = (),
        internal_date: datetime | None = None,
    ) -> StoredMessage:
        owner = self.account(account)
        target = self.mailbox(owner.name, mailbox)
        return self._append_to(owner, target, raw, flags, internal_date)

    def _append_to(
        self,
        owner: Account,
        target: Mailbox,
        raw: bytes,
        flags: Iterable[str],
        internal_date: datetime | None,
    ) -> StoredMessage:
        message = StoredMessage(
            uid=target.uidnext,
            raw=bytes(raw),
            internal_date=internal_date or utc_datetime(self.clock),
            flags=set(flags),
        )
        target.uidnext += 1
        target.messages.append(message)
        self._notify(MessageAdded(owner.name, target.name, message.uid, message.size))
        return message

    def set_flags(
        self, account: str, mailbox: str, uid: int, flags: Iterable[str], *, origin: str = ""
    ) -> StoredMessage:
        target = self.mailbox(account, mailbox)
        message = target.by_uid(uid)
        if message is None:
            raise StoreError("no-such-message", f"no message with UID {uid}")
        new_flags = set(flags)
        if new_flags != message.flags:
            message.flags = new_flags
            self._notify(
                FlagsChanged(self.account(account).name, target.name, uid, frozenset(new_flags), origin)
            )
        return message

    def expunge(
        self, account: str, mailbox: str, uids: Iterable[int], *, origin: str = ""
    ) -> tuple[int, ...]:
        """Remove the messages with these UIDs; returns the UIDs really removed."""
        target = self.mailbox(account, mailbox)
        doomed = set(uids)
        removed = tuple(m.uid for m in target.messages if m.uid in doomed)
        if removed:
            target.messages = [m for m in target.messages if m.uid not in doomed]
            self._notify(MessagesExpunged(self.account(account).name, target.name, removed, origin))
        return removed

    def queue_outgoing(self, message: QueuedMessage) -> None:
        """Queue a message for another domain; due for its first attempt at once."""
        self.outgoing.append(message)
        self.queue.add(message, message.queued_at.timestamp())
        self._notify(MessageQueued(message.submitted_by, "", message.queue_id, message.recipient))

    def notify_queue(self, entry: QueueEntry) -> None:
        """Tell observers that a queue entry was tried (its status may have changed)."""
        message = entry.message
        self._notify(QueueEntryChanged(message.submitted_by, "", message.queue_id, message.recipient, entry.status.value))
