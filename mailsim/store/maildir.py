"""Optional persistence of the store as Maildir folders (`--store DIR`).

Layout, so that mutt and other Maildir readers can open it: `DIR/<account>/` is the
account's INBOX as a Maildir; other mailboxes are Maildir++ subfolders
(`DIR/alice/.Archive.2025` for `Archive/2025`). Flags live in the Maildir info
(`:2,FRS`). IMAP needs what Maildir lacks — UIDs, UIDVALIDITY, UIDNEXT, keywords — so
each folder also holds `mailsim-uidlist`, in the spirit of Dovecot's `dovecot-uidlist`:

    1 V<uidvalidity> N<uidnext>
    <uid> <maildir key> [keyword ...]

The list is an append-only log between compactions: a later line for the same key
replaces the earlier one (keywords changed), and lines whose file is gone are dropped
on load. Subscriptions are kept in the Courier-style `subscriptions` file of the
account. The server keeps its messages in `cur/`; `new/` is where other programs
deliver (procmail, a test script), and `refresh` takes such mail in while serving. Message files use LF line ends, as Maildir readers expect; the store's CRLF is
restored on load (so a bare LF inside an APPENDed message would come back as CRLF).

The durability promise, kept before any 250 / +OK / OK that acknowledges a change:

1. a new message is written to `tmp/` and fsynced;
2. its UID line is appended to `mailsim-uidlist` and fsynced — so the UID is on disk
   before the message is visible anywhere;
3. the file is renamed into `new/` (or `cur/` with its flags) and the directory is
   fsynced.

A crash before 3 leaves no message (the client got no acknowledgement and sends it
again); a crash after 3 leaves the message with the UID the client was told. Expunges
and mailbox changes (CREATE, RENAME, DELETE, subscriptions) are fsynced before their
reply too. Flag changes are written before the reply but not fsynced, as Dovecot's
default `mail_fsync = optimized` does: a power cut may undo the last few, a killed
server none, and `STORE 1:* +FLAGS` on a big mailbox stays fast. UIDs
are unique and increasing within a UIDVALIDITY whatever happens: on load UIDNEXT is
at least one more than every UID the list ever recorded, and files the list does not
know (dropped into `new/` by another program, or from before a crash) get UIDs from
there on. With `durable=False` (`mailsim serve --no-fsync`) the same steps run
without fsync: a killed server still loses nothing (the kernel holds the data), a
power cut or kernel crash may.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
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
from mailsim.store.model import HIERARCHY_DELIMITER, INBOX, Account, Mailbox, StoredMessage, account_name_problem
from mailsim.store.store import MailStore

UIDLIST = "mailsim-uidlist"
SUBSCRIPTIONS = "subscriptions"
SUBDIRS = ("tmp", "new", "cur")

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


def _letters(flags: set[str] | frozenset[str]) -> str:
    return "".join(sorted(FLAG_LETTERS[f] for f in flags if f in FLAG_LETTERS))


def _keywords(flags: set[str] | frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(f for f in flags if not f.startswith("\\")))


@dataclass(slots=True)
class _File:
    """Where one stored message lives: its Maildir key, the file's path below the
    folder (`new/KEY` or `cur/KEY:2,FS`), and the keywords the uidlist records."""

    key: str
    subpath: str
    keywords: tuple[str, ...]


class MaildirPersistence:
    """Loads accounts' mailboxes from disk and writes every later store change back.

    It is the store's writer: an exception here makes the store undo the change and
    refuse the command, so nothing is acknowledged that is not on disk.
    """

    def __init__(self, store: MailStore, root: Path | str, *, durable: bool = True) -> None:
        self.store = store
        self.root = Path(root)
        self.durable = durable
        self._files: dict[tuple[str, str, int], _File] = {}  # (account, mailbox, uid)
        self._host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
        self._counter = 0

    # -- loading ----------------------------------------------------------------

    def has_account(self, account: str) -> bool:
        return (self._account_path(account) / "cur").is_dir()

    def load_account(self, account: Account) -> None:
        """Replace the account's in-memory mailboxes with what is on disk."""
        root = self._account_path(account.name)
        special = {name: box.special_use for name, box in account.mailboxes.items()}
        account.mailboxes.clear()
        subscribed = self._read_subscriptions(account.name)
        account.mailboxes[INBOX] = self._load_mailbox(account.name, INBOX, root, subscribed, special)
        for folder in sorted(self._list_folders(root)):
            name = mailbox_name(folder)
            account.mailboxes[name] = self._load_mailbox(account.name, name, root / ("." + folder), subscribed, special)

    def _load_mailbox(
        self, account: str, name: str, path: Path, subscribed: set[str], special: dict[str, str]
    ) -> Mailbox:
        uidvalidity, uidnext, entries = self._read_uidlist(path)
        by_key: dict[str, tuple[int, tuple[str, ...]]] = {}
        for uid, key, keywords in entries:
            by_key[key] = (uid, keywords)  # a later line for a key replaces the earlier
        # Every UID the list ever named counts, even for files since removed: a UID
        # is never given out twice within a UIDVALIDITY.
        uidnext = max([uidnext, *(uid + 1 for uid, _, _ in entries)])
        present = self._scan(path)
        for key in by_key.keys() - present.keys():
            # Listed, but the file never reached new/ or cur/ (a crash between the
            # uidlist and the rename): never acknowledged, so dropped.
            leftover = path / "tmp" / key
            if leftover.exists():
                leftover.unlink()
        foreign = sorted(present.keys() - by_key.keys(), key=lambda k: (present[k].stat().st_mtime, k))
        for key in foreign:  # dropped in by another program: new UIDs, in arrival order
            by_key[key] = (uidnext, ())
            uidnext += 1
        messages: list[StoredMessage] = []
        for key, file in present.items():
            uid, keywords = by_key[key]
            message = _read_message(file, uid, keywords)
            messages.append(message)
            self._files[(account, name, uid)] = _File(key, self._to_cur(path, file), keywords)
        if any(file.parent.name == "new" for file in present.values()):
            self._sync_dir(path / "cur")
        messages.sort(key=lambda m: m.uid)
        mailbox = Mailbox(
            name=name,
            uidvalidity=uidvalidity or self.store._uidvalidity_seed + 1,
            uidnext=uidnext,
            messages=messages,
            subscribed=name in subscribed or name == INBOX,
            special_use=special.get(name, ""),
        )
        self.store._uidvalidity_seed = max(self.store._uidvalidity_seed, mailbox.uidvalidity)
        self._write_uidlist(account, mailbox)
        return mailbox

    def refresh(self, account: str, name: str) -> None:
        """Take in the files another program delivered into `new/` since the last
        look (Maildir's own delivery protocol: tmp/, then new/). Each gets the next
        UID, recorded in the uidlist before anyone sees it, and moves to `cur/`, as
        a Maildir reader does with mail it has seen; then the store tells everyone.
        Engines call this where Dovecot syncs: SELECT, EXAMINE, STATUS, NOOP, CHECK,
        IDLE and the POP3 login."""
        owner = self.store.accounts.get(account)
        if owner is None or name not in owner.mailboxes:
            return
        path = self._folder_path(account, name)
        try:
            arrived = [Path(e.path) for e in os.scandir(path / "new") if not e.name.startswith(".") and e.is_file()]
        except OSError:
            return
        mailbox = owner.mailboxes[name]
        for file in sorted(arrived, key=lambda f: (f.stat().st_mtime, f.name)):
            key = file.name.partition(":")[0]
            uid = mailbox.uidnext
            try:
                message = _read_message(file, uid, ())
                self._append_uidlist(path, uid, key, ())
                subpath = self._to_cur(path, file)
            except OSError:
                log.exception("cannot take in %s", file)
                continue
            self._files[(owner.name, name, uid)] = _File(key, subpath, ())
            self.store.adopt(owner.name, name, message)
        if arrived:
            self._sync_dir(path / "cur")

    def _to_cur(self, folder: Path, file: Path) -> str:
        """Move a message file from new/ to cur/ (its info part added); its subpath."""
        if file.parent.name == "cur":
            return f"cur/{file.name}"
        key, _, info = file.name.partition(":")
        subpath = f"cur/{key}:{info or '2,'}"
        # No fsync needed before anyone sees it: the uidlist already names the key,
        # so after a power cut the file is found in new/ with the same UID.
        os.rename(file, folder / subpath)
        return subpath

    @staticmethod
    def _scan(path: Path) -> dict[str, Path]:
        """Key -> file of every message in new/ and cur/ (dot files are not mail)."""
        found: dict[str, Path] = {}
        for sub in ("new", "cur"):
            directory = path / sub
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                found[entry.name.partition(":")[0]] = Path(entry.path)
        return found

    @staticmethod
    def _list_folders(root: Path) -> list[str]:
        return [
            entry.name[1:]
            for entry in os.scandir(root)
            if entry.name.startswith(".") and entry.name not in (".", "..") and entry.is_dir()
        ]

    # -- writing ----------------------------------------------------------------

    def save_account(self, account: Account) -> None:
        """Write a whole account (used when it is first seeded from the world)."""
        for mailbox in account.mailboxes.values():
            self._make_folder(account.name, mailbox.name)
            self._write_uidlist(account.name, mailbox)
            for message in mailbox.messages:
                self._add(account.name, mailbox, message)
        self._write_subscriptions(account)

    def __call__(self, change: StoreChange) -> None:
        """Store writer: mirror one change onto disk, or raise (then it is undone)."""
        account = self.store.accounts.get(change.account)
        if account is None:
            return
        if isinstance(change, MessageAdded):
            mailbox = account.mailboxes[change.mailbox]
            message = mailbox.by_uid(change.uid)
            if message is not None:
                self._add(account.name, mailbox, message)
        elif isinstance(change, FlagsChanged):
            self._rewrite_flags(account.name, change.mailbox, change.uid, change.flags)
        elif isinstance(change, MessagesExpunged):
            self._expunge(account, change.mailbox, change.uids)
        elif isinstance(change, MailboxCreated):
            mailbox = account.mailboxes.get(change.mailbox)
            if mailbox is not None:
                self._make_folder(account.name, change.mailbox)
                self._write_uidlist(account.name, mailbox)
                self._write_subscriptions(account)
        elif isinstance(change, MailboxDeleted):
            self._remove_folder(account.name, change.mailbox)
            self._write_subscriptions(account)
        elif isinstance(change, MailboxRenamed):
            self._rename_folder(account.name, change.mailbox, change.new_name)
            self._write_subscriptions(account)
        elif isinstance(change, SubscriptionChanged):
            self._write_subscriptions(account)

    def _add(self, account: str, mailbox: Mailbox, message: StoredMessage) -> None:
        """The three steps of the durability promise (see the module docstring)."""
        folder = self._folder_path(account, mailbox.name)
        key = self._new_key()
        tmp = folder / "tmp" / key
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(message.raw.replace(b"\r\n", b"\n"))
                out.flush()
                if self.durable:
                    os.fsync(out.fileno())
            stamp = message.internal_date.timestamp()
            os.utime(tmp, (stamp, stamp))
            # cur/, even without flags: new/ is where other programs deliver, so
            # that `refresh` finds only their mail there (as Dovecot keeps it).
            subpath = f"cur/{key}:2,{_letters(message.flags)}"
            keywords = _keywords(message.flags)
            self._append_uidlist(folder, message.uid, key, keywords)
            os.rename(tmp, folder / subpath)
        except BaseException:
            if tmp.exists():
                tmp.unlink()
            raise
        self._sync_dir(folder / "cur")
        self._files[(account, mailbox.name, message.uid)] = _File(key, subpath, keywords)

    def _new_key(self) -> str:
        """A unique file name, the way the Maildir specification builds them."""
        self._counter += 1
        now = time.time()
        return f"{int(now)}.M{int(now * 1_000_000) % 1_000_000}P{os.getpid()}Q{self._counter}.{self._host}"

    def _rewrite_flags(self, account: str, name: str, uid: int, flags: frozenset[str]) -> None:
        file = self._files.get((account, name, uid))
        if file is None:
            return
        folder = self._folder_path(account, name)
        letters = _letters(flags)
        subpath = f"cur/{file.key}:2,{letters}"
        if subpath != file.subpath:
            # One rename: the message is never in two files, or in none. Not fsynced
            # (see the module docstring): STORE 1:* on a big mailbox stays fast.
            os.rename(folder / file.subpath, folder / subpath)
            file.subpath = subpath
        keywords = _keywords(flags)
        if keywords != file.keywords:
            self._append_uidlist(folder, uid, file.key, keywords, sync=False)
            file.keywords = keywords

    def _expunge(self, account: Account, name: str, uids: tuple[int, ...]) -> None:
        folder = self._folder_path(account.name, name)
        for uid in uids:
            file = self._files.pop((account.name, name, uid), None)
            if file is not None:
                path = folder / file.subpath
                if path.exists():
                    path.unlink()
        self._sync_dir(folder / "cur")
        self._sync_dir(folder / "new")
        if name in account.mailboxes:
            self._write_uidlist(account.name, account.mailboxes[name])

    # -- files -------------------------------------------------------------------

    def _account_path(self, account: str) -> Path:
        # The store refuses such names already; this keeps a bug from writing elsewhere.
        if account_name_problem(account):
            raise ValueError(f"account name {account!r} cannot be a directory")
        return self.root / account.lower()

    def _folder_path(self, account: str, name: str) -> Path:
        if name == INBOX:
            return self._account_path(account)
        return self._account_path(account) / ("." + folder_name(name))

    def _make_folder(self, account: str, name: str) -> None:
        path = self._folder_path(account, name)
        fresh = not path.exists()
        for sub in SUBDIRS:
            (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        if name != INBOX:
            (path / "maildirfolder").touch(mode=0o600)
        if fresh:
            self._sync_dir(path)
            self._sync_dir(path.parent)

    def _rename_folder(self, account: str, old: str, new: str) -> None:
        old_path, new_path = self._folder_path(account, old), self._folder_path(account, new)
        if old_path.exists():
            os.rename(old_path, new_path)
            self._sync_dir(new_path.parent)
        self._files = {
            (a, new if (a, m) == (account, old) else m, u): f for (a, m, u), f in self._files.items()
        }

    def _remove_folder(self, account: str, name: str) -> None:
        path = self._folder_path(account, name)
        if path.exists():
            for sub in SUBDIRS:
                if (path / sub).is_dir():
                    for entry in (path / sub).iterdir():
                        entry.unlink()
                    (path / sub).rmdir()
            for entry in path.iterdir():
                entry.unlink()
            path.rmdir()
            self._sync_dir(path.parent)
        self._files = {k: v for k, v in self._files.items() if (k[0], k[1]) != (account, name)}

    def _sync_dir(self, path: Path) -> None:
        """fsync a directory, so the names created or removed in it are on disk."""
        if not self.durable:
            return
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _read_uidlist(self, folder: Path) -> tuple[int, int, list[tuple[int, str, tuple[str, ...]]]]:
        path = folder / UIDLIST
        if not path.exists():
            return 0, 1, []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        uidvalidity, uidnext = 0, 1
        if lines:
            for field in lines[0].split()[1:]:
                if field[:1] in ("V", "N") and field[1:].isdigit():
                    if field.startswith("V"):
                        uidvalidity = int(field[1:])
                    else:
                        uidnext = int(field[1:])
        entries = []
        for line in lines[1:]:
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit():  # a torn last line is skipped
                entries.append((int(parts[0]), parts[1], tuple(parts[2:])))
        return uidvalidity, uidnext, entries

    def _write_uidlist(self, account: str, mailbox: Mailbox) -> None:
        """Rewrite the list compactly, atomically (temporary file, fsync, rename)."""
        folder = self._folder_path(account, mailbox.name)
        lines = [f"1 V{mailbox.uidvalidity} N{mailbox.uidnext}\n"]
        for message in mailbox.messages:
            file = self._files.get((account, mailbox.name, message.uid))
            if file is not None:
                lines.append(" ".join([str(message.uid), file.key, *file.keywords]) + "\n")
        self._replace_file(folder / UIDLIST, "".join(lines))

    def _append_uidlist(self, folder: Path, uid: int, key: str, keywords: tuple[str, ...], *, sync: bool = True) -> None:
        path = folder / UIDLIST
        line = " ".join([str(uid), key, *keywords]) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size == 0:
                line = "1 V0 N1\n" + line  # should not happen: folders start with a header
            os.write(fd, line.encode("utf-8"))
            if self.durable and sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def _replace_file(self, path: Path, text: str) -> None:
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            if self.durable:
                os.fsync(out.fileno())
        os.replace(tmp, path)
        self._sync_dir(path.parent)

    def _read_subscriptions(self, account: str) -> set[str]:
        path = self._account_path(account) / SUBSCRIPTIONS
        if not path.exists():
            return set()
        return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}

    def _write_subscriptions(self, account: Account) -> None:
        path = self._account_path(account.name) / SUBSCRIPTIONS
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        names = sorted(name for name, box in account.mailboxes.items() if box.subscribed)
        self._replace_file(path, "".join(f"{name}\n" for name in names))


def _read_message(file: Path, uid: int, keywords: tuple[str, ...]) -> StoredMessage:
    """A message file as the store holds it: CRLF line ends (Maildir files use LF),
    flags from the info part and the uidlist, internal date from the file's mtime."""
    raw = file.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    info = file.name.partition(":")[2]
    letters = info[2:] if info.startswith("2,") else ""
    flags = {LETTER_FLAGS[c] for c in letters if c in LETTER_FLAGS} | set(keywords)
    date = datetime.fromtimestamp(file.stat().st_mtime, tz=timezone.utc)
    return StoredMessage(uid=uid, raw=raw, internal_date=date, flags=flags)


def attach_maildir(store: MailStore, root: Path | str, *, durable: bool = True) -> MaildirPersistence:
    """Load every account that exists on disk, write out the ones that don't, and
    keep the disk in step with the store from now on (as the store's writer)."""
    persistence = MaildirPersistence(store, root, durable=durable)
    persistence.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for account in store.accounts.values():
        if persistence.has_account(account.name):
            persistence.load_account(account)
        else:
            persistence.save_account(account)
    store.set_writer(persistence, refresh=persistence.refresh)
    return persistence
