"""The one mail store that SMTP, POP3 and IMAP share.

All mutation goes through `MailStore` methods, so observers (IMAP sessions, the UI)
hear about every change, in order.

A change is first made in memory, then handed to the store's writer (Maildir
persistence, when there is one), and only then told to the observers. When the
writer fails the change is undone in memory and `StoreError("write-failed")` is
raised, so the engines can refuse the command: what the clients were told, what is
in memory and what is on disk never disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

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
    DEFAULT_QUOTA,
    HIERARCHY_DELIMITER,
    INBOX,
    Account,
    Mailbox,
    QueuedMessage,
    StoredMessage,
    account_name_problem,
    canonical_mailbox_name,
    mailbox_name_problem,
)
from mailsim.store.queue import MailQueue, QueueEntry

Observer = Callable[[StoreChange], None]

log = logging.getLogger(__name__)


class StoreError(Exception):
    """A request the store refuses; `reason` is a stable key for explanations."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


class QuotaExceeded(StoreError):
    """The account has no room for `size` more octets (reason "over-quota")."""

    def __init__(self, account: str, size: int, used: int, limit: int) -> None:
        super().__init__("over-quota", f"{account}: {size} octets do not fit ({used} of {limit} used)")
        self.account, self.size, self.used, self.limit = account, size, used, limit


class MailStore:
    def __init__(
        self,
        domain: str = "mailsim.test",
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        default_quota: int = DEFAULT_QUOTA,
    ) -> None:
        self.domain = domain.lower()
        #: Octets each account may hold unless it has its own quota; 0: unlimited.
        self.default_quota = default_quota
        self._writer: Observer | None = None
        self._refresher: Callable[[str, str], None] | None = None
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

    def set_writer(self, writer: Observer | None, *, refresh: Callable[[str, str], None] | None = None) -> None:
        """The one observer whose failure undoes a change: persistence. `refresh`
        takes in mail that reached the persistent mailbox by other ways."""
        self._writer = writer
        self._refresher = refresh

    def refresh(self, account: str, mailbox: str) -> None:
        """Take in mail another program delivered into this mailbox (a Maildir's
        new/), if the store is persistent; new messages are told as usual."""
        if self._refresher is not None:
            self._refresher(self.account(account).name, canonical_mailbox_name(mailbox))

    def adopt(self, account: str, mailbox: str, message: StoredMessage) -> None:
        """A message persistence found already written (see `refresh`): it takes the
        next UID, which must be the one it carries, and is told to observers."""
        owner = self.account(account)
        target = self.mailbox(owner.name, mailbox)
        if message.uid != target.uidnext:
            raise StoreError("uid-mismatch", f"adopted UID {message.uid} is not UIDNEXT {target.uidnext}")
        target.uidnext += 1
        target.messages.append(message)
        self._notify(MessageAdded(owner.name, target.name, message.uid, message.size))

    def _commit(self, change: StoreChange, undo: Callable[[], object]) -> None:
        """Write a change made in memory, or undo it and refuse; then tell observers."""
        if self._writer is not None:
            try:
                self._writer(change)
            except Exception as exc:
                log.exception("store writer failed on %r; change undone", change)
                undo()
                raise StoreError("write-failed", f"could not write {type(change).__name__}: {exc}") from exc
        self._notify(change)

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
        quota: int | None = None,
        domain: str = "",
    ) -> Account:
        """Add (or update) an account. Accounts are keyed by their name; one whose name
        another domain already uses is keyed by its full address instead."""
        problem = account_name_problem(name)
        if problem:
            raise StoreError("bad-account-name", problem)
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
            if quota is not None:
                existing.quota = quota
            return existing
        account = Account(
            name=key,
            password=password,
            domain=domain,
            display_name=display_name,
            aliases=tuple(a.lower() for a in aliases),
            quota=quota,
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

    # -- quotas ------------------------------------------------------------------

    def quota(self, account: str) -> int:
        """The account's storage limit in octets (0: unlimited)."""
        owner = self.account(account)
        return self.default_quota if owner.quota is None else owner.quota

    def usage(self, account: str) -> int:
        """Octets the account's messages take, in every mailbox (\\Deleted ones too,
        until they are expunged, as on real servers)."""
        owner = self.account(account)
        return sum(m.size for box in owner.mailboxes.values() for m in box.messages)

    def check_room(self, account: str, size: int) -> None:
        """Raise QuotaExceeded unless `size` more octets fit in the account."""
        limit = self.quota(account)
        if not limit:
            return
        used = self.usage(account)
        if used + size > limit:
            raise QuotaExceeded(self.account(account).name, size, used, limit)

    def is_full(self, account: str) -> bool:
        limit = self.quota(account)
        return bool(limit) and self.usage(account) >= limit

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
        name = canonical_mailbox_name(name.rstrip(HIERARCHY_DELIMITER)) if name.strip(HIERARCHY_DELIMITER) else name
        problem = mailbox_name_problem(name)
        if problem:
            raise StoreError("bad-mailbox-name", problem)
        if name in owner.mailboxes:
            raise StoreError("mailbox-exists", f"mailbox {name!r} exists")
        # RFC 3501 §6.3.3: create the superior hierarchy levels that are missing.
        parts = name.split(HIERARCHY_DELIMITER)
        created: list[str] = []
        try:
            for depth in range(1, len(parts)):
                parent = HIERARCHY_DELIMITER.join(parts[:depth])
                if parent not in owner.mailboxes:
                    self._new_mailbox(owner, parent)
                    self._commit(MailboxCreated(owner.name, parent), partial(owner.mailboxes.pop, parent, None))
                    created.append(parent)
            mailbox = self._new_mailbox(owner, name, special_use)
            mailbox.subscribed = subscribed
            self._commit(MailboxCreated(owner.name, name), lambda: owner.mailboxes.pop(name, None))
        except StoreError:
            for parent in reversed(created):  # all or nothing
                self.take_back(partial(self.delete_mailbox, owner.name, parent))
            raise
        return mailbox

    def delete_mailbox(self, account: str, name: str) -> None:
        """Delete a mailbox and its messages. Its inferiors stay (RFC 3501 §6.3.4);
        LIST then shows the name as \\Noselect while they exist."""
        owner = self.account(account)
        name = canonical_mailbox_name(name)
        if name == INBOX:
            raise StoreError("cannot-delete-inbox")
        if name not in owner.mailboxes:
            raise StoreError("no-such-mailbox", f"no mailbox {name!r}")
        mailbox = owner.mailboxes.pop(name)
        self._commit(MailboxDeleted(owner.name, name), lambda: owner.mailboxes.__setitem__(name, mailbox))

    def rename_mailbox(self, account: str, old: str, new: str) -> None:
        """Rename a mailbox and its children; renaming INBOX moves its messages
        into the new mailbox and leaves INBOX empty (RFC 3501 §6.3.5)."""
        owner = self.account(account)
        old, new = canonical_mailbox_name(old), canonical_mailbox_name(new)
        if old not in owner.mailboxes:
            raise StoreError("no-such-mailbox", f"no mailbox {old!r}")
        problem = mailbox_name_problem(new)
        if problem:
            raise StoreError("bad-mailbox-name", problem)
        if new in owner.mailboxes:
            raise StoreError("mailbox-exists", f"mailbox {new!r} exists")
        if old != INBOX and new.startswith(old + HIERARCHY_DELIMITER):
            raise StoreError("bad-mailbox-name", f"{old!r} cannot become {new!r}")
        if old == INBOX:
            source = owner.mailboxes[INBOX]
            target = self.create_mailbox(owner.name, new)
            for message in source.messages:
                self._append_to(owner, target, message.raw, message.flags, message.internal_date, counted=False)
            self.expunge(owner.name, INBOX, [m.uid for m in source.messages])
            return
        prefix = old + HIERARCHY_DELIMITER
        renames = [n for n in owner.mailboxes if n == old or n.startswith(prefix)]
        done: list[tuple[str, str]] = []
        try:
            for name in renames:
                self._rename_one(owner, name, new + name[len(old):])
                done.append((name, new + name[len(old):]))
        except StoreError:
            for before, after in reversed(done):  # all or nothing
                self.take_back(partial(self._rename_one, owner, after, before))
            raise

    def _rename_one(self, owner: Account, name: str, new_name: str) -> None:
        mailbox = owner.mailboxes.pop(name)
        mailbox.name = new_name
        owner.mailboxes[new_name] = mailbox

        def undo() -> None:
            owner.mailboxes.pop(new_name, None)
            mailbox.name = name
            owner.mailboxes[name] = mailbox

        self._commit(MailboxRenamed(owner.name, name, new_name), undo)

    @staticmethod
    def take_back(step: Callable[[], object]) -> None:
        """Take back an earlier step of a command that failed; if the disk refuses
        that too, memory and disk still agree (each step is), so log and go on."""
        try:
            step()
        except StoreError:
            log.warning("could not take back a step of a failed command")

    def set_subscribed(self, account: str, name: str, subscribed: bool) -> None:
        mailbox = self.mailbox(account, name)
        before = mailbox.subscribed
        mailbox.subscribed = subscribed
        self._commit(
            SubscriptionChanged(self.account(account).name, mailbox.name, subscribed),
            lambda: setattr(mailbox, "subscribed", before),
        )

    # -- messages ----------------------------------------------------------------

    def append(
        self,
        account: str,
        mailbox: str,
        raw: bytes,
        *,
        flags: Iterable[str] = (),
        internal_date: datetime | None = None,
        check_quota: bool = True,
    ) -> StoredMessage:
        """Store one message; QuotaExceeded when it does not fit, StoreError
        ("write-failed") when it could not be written (then it is not stored)."""
        owner = self.account(account)
        target = self.mailbox(owner.name, mailbox)
        return self._append_to(owner, target, raw, flags, internal_date, counted=check_quota)

    def copy_messages(
        self, account: str, mailbox: str, messages: Iterable[StoredMessage], *, moving: bool = False
    ) -> list[StoredMessage]:
        """Copies of `messages` in `mailbox`, all or none: the quota is checked for
        the whole set first, and a failed write removes the copies already made.
        `moving`: the originals go next, within the account's one quota root, so the
        usage does not change and no room is needed (as Dovecot does for MOVE)."""
        owner = self.account(account)
        target = self.mailbox(owner.name, mailbox)
        sources = list(messages)
        if not moving:
            self.check_room(owner.name, sum(m.size for m in sources))
        copies: list[StoredMessage] = []
        try:
            for m in sources:
                copies.append(self._append_to(owner, target, m.raw, m.flags, m.internal_date, counted=False))
        except StoreError:
            if copies:
                self.take_back(lambda: self.expunge(owner.name, target.name, [c.uid for c in copies]))
            raise
        return copies

    def _append_to(
        self,
        owner: Account,
        target: Mailbox,
        raw: bytes,
        flags: Iterable[str],
        internal_date: datetime | None,
        *,
        counted: bool = True,
    ) -> StoredMessage:
        if counted:
            self.check_room(owner.name, len(raw))
        message = StoredMessage(
            uid=target.uidnext,
            raw=bytes(raw),
            internal_date=internal_date or utc_datetime(self.clock),
            flags=set(flags),
        )
        # A UID is never given out twice, even when the write fails: UIDNEXT stays.
        target.uidnext += 1
        target.messages.append(message)
        self._commit(
            MessageAdded(owner.name, target.name, message.uid, message.size),
            lambda: target.messages.remove(message),
        )
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
            before = message.flags
            message.flags = new_flags
            self._commit(
                FlagsChanged(self.account(account).name, target.name, uid, frozenset(new_flags), origin),
                lambda: setattr(message, "flags", before),
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
            before = target.messages
            target.messages = [m for m in target.messages if m.uid not in doomed]
            self._commit(
                MessagesExpunged(self.account(account).name, target.name, removed, origin),
                lambda: setattr(target, "messages", before),
            )
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
