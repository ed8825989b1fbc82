"""Optional persistence of the store as Maildir folders (`--store DIR`).

Layout, so that mutt and other Maildir readers can open it: `DIR/<account>/` is the
account's INBOX as a Maildir; other mailboxes are Maildir++ subfolders
(`DIR/alice/.Archive.2025` for `Archive/2025`). Flags live in the Maildir info
(`:2,FRS`). IMAP needs what Maildir lacks — UIDs, UIDVALIDITY, UIDNEXT, keywords — so
each folder also holds `mailsim-uidlist`, in the spirit of Dovecot's `dovecot-uidlist`:

    1 V<uidvalidity> N<uidnext>
    <uid> <maildir key> [keyword ...]

Subscriptions are kept in the Courier-style `subscriptions` file of the account.
Message files use LF line ends, as Maildir readers expect; the store's CRLF is restored
on load (so a bare LF inside an APPENDed message would come back as CRLF).
"""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
import os
from datetime import datetime, timezone
from pathlib import Path

from mailsim.store.changes import (
    FlagsChanged,
    MailboxCreated,
    MailboxDeleted,
    MailboxRenamed,
    MessageAdded,
    MessagesExpunged,
    StoreChange,
    SubscriptionChanged,
)
from mailsim.store.model import HIERARCHY_DELIMITER, INBOX, Account, Mailbox, StoredMessage
from mailsim.store.store import MailStore

UIDLIST = "mailsim-uidlist"
SUBSCRIPTIONS = "subscriptions"

# IMAP system flag <-> Maildir info letter (https://cr.yp.to/proto/maildir.html).
FLAG_LETTERS = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
}
LETTER_FLAGS = {letter: flag for flag, letter in FLAG_LETTERS.items()}

log = logging.getLogger(__name__)


def folder_name(mailbox_name: str) -> str:
    """Maildir++ folder for an IMAP name: '/' becomes '.', and '.' or '%' are escaped."""
    escaped = mailbox_name.replace("%", "%25").replace(".", "%2E")
    return escaped.replace(HIERARCHY_DELIMITER, ".")


def mailbox_name(folder: str) -> str:
    return folder.replace(".", HIERARCHY_DELIMITER).replace("%2E", ".").replace("%25", "%")


class MaildirPersistence:
    """Loads accounts' mailboxes from disk and writes every later store change back."""

    def __init__(self, store: MailStore, root: Path | str) -> None:
        self.store = store
        self.root = Path(root)
        self._keys: dict[tuple[str, str, int], str] = {}  # (account, mailbox, uid) -> key

    # -- loading ----------------------------------------------------------------

    def has_account(self, account: str) -> bool:
        return (self.root / account.lower() / "cur").is_dir()

    def load_account(self, account: Account) -> None:
        """Replace the account's in-memory mailboxes with what is on disk."""
        inbox = self._maildir(account.name, INBOX, create=False)
        special = {name: box.special_use for name, box in account.mailboxes.items()}
        account.mailboxes.clear()
        subscribed = self._read_subscriptions(account.name)
        account.mailboxes[INBOX] = self._load_mailbox(account.name, INBOX, inbox, subscribed, special)
        for folder in sorted(inbox.list_folders()):
            name = mailbox_name(folder)
            account.mailboxes[name] = self._load_mailbox(
                account.name, name, inbox.get_folder(folder), subscribed, special
            )

    def _load_mailbox(
        self,
        account: str,
        name: str,
        maildir: stdlib_mailbox.Maildir,
        subscribed: set[str],
        special: dict[str, str],
    ) -> Mailbox:
        uidvalidity, uidnext, entries = self._read_uidlist(Path(maildir._path))
        by_key = {key: (uid, keywords) for uid, key, keywords in entries}
        present = set(maildir.keys())
        messages: list[StoredMessage] = []
        new_keys = sorted(present - by_key.keys())  # dropped in by another program
        for key in new_keys:
            by_key[key] = (uidnext, ())
            uidnext += 1
        for key, (uid, keywords) in by_key.items():
            if key not in present:
                continue
            msg = maildir.get_message(key)
            # Maildir files use the platform's LF line ends (the stdlib converts on
            # write); the store and the protocols speak CRLF.
            raw = maildir.get_bytes(key).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            flags = {LETTER_FLAGS[c] for c in msg.get_flags() if c in LETTER_FLAGS} | set(keywords)
            date = datetime.fromtimestamp(msg.get_date(), tz=timezone.utc)
            messages.append(StoredMessage(uid=uid, raw=raw, internal_date=date, flags=flags))
            self._keys[(account, name, uid)] = key
        messages.sort(key=lambda m: m.uid)
        mailbox = Mailbox(
            name=name,
            uidvalidity=uidvalidity or self.store._uidvalidity_seed + 1,
            uidnext=max([uidnext, *(m.uid + 1 for m in messages)]),
            messages=messages,
            subscribed=name in subscribed or name == INBOX,
            special_use=special.get(name, ""),
        )
        self.store._uidvalidity_seed = max(self.store._uidvalidity_seed, mailbox.uidvalidity)
        self._write_uidlist(account, mailbox)
        return mailbox

    # -- writing ----------------------------------------------------------------

    def save_account(self, account: Account) -> None:
        """Write a whole account (used when it is first seeded from the world)."""
        for mailbox in account.mailboxes.values():
            maildir = self._maildir(account.name, mailbox.name, create=True)
            for message in mailbox.messages:
                self._add(account.name, mailbox, maildir, message)
            self._write_uidlist(account.name, mailbox)
        self._write_subscriptions(account)

    def __call__(self, change: StoreChange) -> None:
        """Store observer: mirror one change onto disk."""
        account = self.store.account(change.account) if change.account in self.store.accounts else None
        if account is None:
            return
        if isinstance(change, MessageAdded):
            mailbox = account.mailboxes[change.mailbox]
            message = mailbox.by_uid(change.uid)
            if message is not None:
                self._add(account.name, mailbox, self._maildir(account.name, mailbox.name, create=True), message)
                self._append_uidlist(account.name, mailbox, message)
        elif isinstance(change, FlagsChanged):
            self._rewrite_flags(account.name, change.mailbox, change.uid, change.flags)
        elif isinstance(change, MessagesExpunged):
            maildir = self._maildir(account.name, change.mailbox, create=True)
            for uid in change.uids:
                key = self._keys.pop((account.name, change.mailbox, uid), None)
                if key is not None:
                    maildir.discard(key)
            if change.mailbox in account.mailboxes:
                self._write_uidlist(account.name, account.mailboxes[change.mailbox])
        elif isinstance(change, MailboxCreated):
            created = account.mailboxes.get(change.mailbox)
            if created is not None:
                self._maildir(account.name, change.mailbox, create=True)
                self._write_uidlist(account.name, created)
                self._write_subscriptions(account)
        elif isinstance(change, MailboxDeleted):
            self._remove_folder(account.name, change.mailbox)
            self._write_subscriptions(account)
        elif isinstance(change, MailboxRenamed):
            old = self._folder_path(account.name, change.mailbox)
            new = self._folder_path(account.name, change.new_name)
            if old.exists():
                os.rename(old, new)
            self._keys = {
                ((a, change.new_name if (a, m) == (account.name, change.mailbox) else m, u)): k
                for (a, m, u), k in self._keys.items()
            }
            self._write_subscriptions(account)
        elif isinstance(change, SubscriptionChanged):
            self._write_subscriptions(account)

    def _add(
        self, account: str, mailbox: Mailbox, maildir: stdlib_mailbox.Maildir, message: StoredMessage
    ) -> None:
        entry = stdlib_mailbox.MaildirMessage(message.raw)
        letters = "".join(sorted(FLAG_LETTERS[f] for f in message.flags if f in FLAG_LETTERS))
        entry.set_subdir("cur" if letters else "new")
        if letters:
            entry.set_flags(letters)
        entry.set_date(message.internal_date.timestamp())
        key = maildir.add(entry)
        self._keys[(account, mailbox.name, message.uid)] = key

    def _rewrite_flags(self, account: str, name: str, uid: int, flags: frozenset[str]) -> None:
        key = self._keys.get((account, name, uid))
        if key is None:
            return
        maildir = self._maildir(account, name, create=True)
        entry = maildir.get_message(key)
        entry.set_subdir("cur")
        entry.set_flags("".join(sorted(FLAG_LETTERS[f] for f in flags if f in FLAG_LETTERS)))
        maildir[key] = entry
        self._write_uidlist(account, self.store.mailbox(account, name))

    # -- files -------------------------------------------------------------------

    def _folder_path(self, account: str, name: str) -> Path:
        if name == INBOX:
            return self.root / account
        return self.root / account / ("." + folder_name(name))

    def _maildir(self, account: str, name: str, *, create: bool) -> stdlib_mailbox.Maildir:
        inbox = stdlib_mailbox.Maildir(self.root / account, factory=None, create=create)
        if name == INBOX:
            return inbox
        folder = folder_name(name)
        if create and folder not in inbox.list_folders():
            return inbox.add_folder(folder)
        return inbox.get_folder(folder)

    def _remove_folder(self, account: str, name: str) -> None:
        path = self._folder_path(account, name)
        if not path.exists():
            return
        for sub in ("tmp", "new", "cur"):
            for entry in (path / sub).glob("*"):
                entry.unlink()
            (path / sub).rmdir()
        for entry in path.iterdir():
            entry.unlink()
        path.rmdir()
        self._keys = {k: v for k, v in self._keys.items() if (k[0], k[1]) != (account, name)}

    def _uidlist_path(self, account: str, name: str) -> Path:
        return self._folder_path(account, name) / UIDLIST

    def _read_uidlist(self, folder: Path) -> tuple[int, int, list[tuple[int, str, tuple[str, ...]]]]:
        path = folder / UIDLIST
        if not path.exists():
            return 0, 1, []
        lines = path.read_text(encoding="utf-8").splitlines()
        uidvalidity, uidnext = 0, 1
        if lines:
            for field in lines[0].split()[1:]:
                if field.startswith("V"):
                    uidvalidity = int(field[1:])
                elif field.startswith("N"):
                    uidnext = int(field[1:])
        entries = []
        for line in lines[1:]:
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit():
                entries.append((int(parts[0]), parts[1], tuple(parts[2:])))
        return uidvalidity, uidnext, entries

    def _uidlist_line(self, account: str, mailbox: Mailbox, message: StoredMessage) -> str:
        key = self._keys.get((account, mailbox.name, message.uid), "")
        keywords = sorted(f for f in message.flags if not f.startswith("\\"))
        return " ".join([str(message.uid), key, *keywords]) + "\n"

    def _write_uidlist(self, account: str, mailbox: Mailbox) -> None:
        path = self._uidlist_path(account, mailbox.name)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            out.write(f"1 V{mailbox.uidvalidity} N{mailbox.uidnext}\n")
            for message in mailbox.messages:
                out.write(self._uidlist_line(account, mailbox, message))
        os.replace(tmp, path)

    def _append_uidlist(self, account: str, mailbox: Mailbox, message: StoredMessage) -> None:
        # The header's UIDNEXT is rewritten lazily; on load UIDNEXT is at least max(uid)+1.
        path = self._uidlist_path(account, mailbox.name)
        if not path.exists():
            self._write_uidlist(account, mailbox)
            return
        with path.open("a", encoding="utf-8") as out:
            out.write(self._uidlist_line(account, mailbox, message))

    def _read_subscriptions(self, account: str) -> set[str]:
        path = self.root / account / SUBSCRIPTIONS
        if not path.exists():
            return set()
        return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}

    def _write_subscriptions(self, account: Account) -> None:
        path = self.root / account.name / SUBSCRIPTIONS
        path.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(name for name, box in account.mailboxes.items() if box.subscribed)
        path.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")


def attach_maildir(store: MailStore, root: Path | str) -> MaildirPersistence:
    """Load every account that exists on disk, write out the ones that don't, and
    keep the disk in step with the store from now on."""
    persistence = MaildirPersistence(store, root)
    persistence.root.mkdir(parents=True, exist_ok=True)
    for account in store.accounts.values():
        if persistence.has_account(account.name):
            persistence.load_account(account)
        else:
            persistence.save_account(account)
    store.subscribe(persistence)
    return persistence
