"""The world a store starts from: accounts, folders and messages, read from data files.

The default world is `assets/world/world.toml`; a lesson or a classroom may bring its
own. A roster file adds accounts for a class. Errors name the file, the line where it
can be found, and what is wrong.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mailsim.clock import Clock, IdGenerator
from mailsim.resources import assets_dir
from mailsim.store.model import INBOX, account_name_problem
from mailsim.store.store import MailStore

FORMAT_VERSION = 1


class WorldError(ValueError):
    def __init__(self, path: Path | str, message: str, line: int = 0) -> None:
        self.path, self.line, self.message = str(path), line, message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class AccountSpec:
    name: str
    password: str
    display_name: str = ""
    aliases: tuple[str, ...] = ()
    quota: int | None = None  # octets; None: the server's default; 0: unlimited


@dataclass(frozen=True)
class MailboxSpec:
    account: str
    name: str
    special_use: str = ""
    subscribed: bool = True


@dataclass(frozen=True)
class MessageSpec:
    account: str
    mailbox: str
    raw: bytes
    internal_date: datetime | None
    flags: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class World:
    domain: str = "mailsim.test"
    accounts: tuple[AccountSpec, ...] = ()
    mailboxes: tuple[MailboxSpec, ...] = ()
    messages: tuple[MessageSpec, ...] = field(default=())


def default_world_path() -> Path:
    return assets_dir() / "world" / "world.toml"


def load_world(path: Path | str | None = None) -> World:
    path = Path(path) if path else default_world_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(path, f"cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorldError(path, str(exc)) from None
    return world_from_data(data, path, text)


def world_from_data(
    data: dict[str, Any], path: Path, text: str = "", *, lines: "KeyLines | None" = None, prefix: str = ""
) -> World:
    """Build a World from parsed TOML; `path` anchors relative message files.

    A world can also be one table of a larger file (a lesson's `[world]`): `prefix`
    is then its dotted name ("world.") so errors point at `[[world.messages]]`, and
    `lines` the enclosing file's line index.
    """
    lines = lines if lines is not None else KeyLines(text)
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise WorldError(path, f"format_version {version!r} is not {FORMAT_VERSION}", lines.find("format_version"))
    _only(path, lines, prefix.rstrip(".") or "world", data, {"format_version", "domain", "accounts", "mailboxes", "messages"})
    accounts = []
    for entry in data.get("accounts", []):
        _only(path, lines, f"{prefix}accounts", entry, {"name", "password", "display_name", "aliases", "quota"})
        name = _required(path, lines, entry, "name", f"{prefix}accounts")
        _valid_account_name(path, str(name), lines.find(f'"{name}"') or lines.find(str(name)))
        quota = entry.get("quota")
        if quota is not None:
            try:
                quota = parse_size(quota)
            except ValueError as exc:
                raise WorldError(path, f"quota of {name!r}: {exc}", lines.key("quota")) from None
        accounts.append(
            AccountSpec(
                name=name,
                password=_required(path, lines, entry, "password", f"{prefix}accounts"),
                display_name=entry.get("display_name", ""),
                aliases=tuple(entry.get("aliases", ())),
                quota=quota,
            )
        )
    known = {a.name.lower() for a in accounts}
    mailboxes = []
    for entry in data.get("mailboxes", []):
        _only(path, lines, f"{prefix}mailboxes", entry, {"account", "name", "special_use", "subscribed"})
        account = _required(path, lines, entry, "account", f"{prefix}mailboxes")
        _known_account(path, lines, account, known)
        mailboxes.append(
            MailboxSpec(
                account=account,
                name=_required(path, lines, entry, "name", f"{prefix}mailboxes"),
                special_use=entry.get("special_use", ""),
                subscribed=bool(entry.get("subscribed", True)),
            )
        )
    messages = []
    for entry in data.get("messages", []):
        _only(
            path, lines, f"{prefix}messages", entry, {"account", "mailbox", "file", "asset", "raw", "internal_date", "flags"}
        )
        account = _required(path, lines, entry, "account", f"{prefix}messages")
        _known_account(path, lines, account, known)
        messages.append(_message(path, lines, entry, account, prefix))
    return World(
        domain=data.get("domain", "mailsim.test"),
        accounts=tuple(accounts),
        mailboxes=tuple(mailboxes),
        messages=tuple(messages),
    )


def _message(path: Path, lines: "KeyLines", entry: dict[str, Any], account: str, prefix: str = "") -> MessageSpec:
    """A message from `file` (relative to the world file), `asset` (relative to the
    shipped `assets/` folder, so lessons can share the sample messages) or `raw` text."""
    if "file" in entry or "asset" in entry:
        key = "file" if "file" in entry else "asset"
        source = (path.parent if key == "file" else assets_dir()) / entry[key]
        try:
            raw = source.read_bytes()
        except OSError:
            raise WorldError(path, f"message {key} {entry[key]!r} not found", lines.find(entry[key])) from None
    elif "raw" in entry:
        source = path
        raw = entry["raw"].replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    else:
        raise WorldError(path, "a message needs 'file', 'asset' or 'raw'", lines.find(f"[[{prefix}messages]]"))
    date = entry.get("internal_date")
    if date is not None and not isinstance(date, datetime):
        raise WorldError(path, "internal_date must be a TOML date-time", lines.find("internal_date"))
    if isinstance(date, datetime) and date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return MessageSpec(
        account=account,
        mailbox=entry.get("mailbox", INBOX),
        raw=raw,
        internal_date=date,
        flags=tuple(entry.get("flags", ())),
        source=str(source),
    )


def parse_roster(path: Path | str) -> list[AccountSpec]:
    """A class roster: TOML with `[[accounts]]`, or CSV / text lines `user,password[,name]`
    or `user:password`. Blank lines and `#` comments are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(path, f"cannot read: {exc.strerror}") from None
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise WorldError(path, str(exc)) from None
        return list(world_from_data({"accounts": data.get("accounts", [])}, path, text).accounts)
    accounts = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = next(csv.reader([line])) if "," in line else line.split(":", 1)
        fields = [f.strip() for f in fields]
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise WorldError(path, "expected 'user,password[,display name]' or 'user:password'", number)
        if fields[0].lower() in {"user", "username", "name"} and number == 1:
            continue  # a spreadsheet's header row
        _valid_account_name(path, fields[0], number)
        accounts.append(AccountSpec(fields[0], fields[1], fields[2] if len(fields) > 2 else ""))
    return accounts


def parse_account_option(value: str) -> AccountSpec:
    """`--account user:password` from the command line."""
    name, sep, password = value.partition(":")
    if not sep or not name or not password:
        raise ValueError(f"expected user:password, got {value!r}")
    problem = account_name_problem(name)
    if problem:
        raise ValueError(f"--account: {problem}")
    return AccountSpec(name, password)


_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(value: object) -> int:
    """Octets from `26214400`, `"25M"`, `"512K"` or `"1G"` (binary units); 0 means no limit."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = str(value).strip().upper()
    for suffix in ("IB", "B"):  # 25MiB, 25MB and 25M are the same here
        if len(text) > 1 and text.endswith(suffix) and text[-len(suffix) - 1] in "KMG":
            text = text[: -len(suffix)]
    unit = text[-1] if text and text[-1] in "KMG" else ""
    number = text[: -1] if unit else text
    try:
        amount = float(number)
    except ValueError:
        raise ValueError(f"{value!r} is not a size (e.g. 25M, 512K, 1G, or octets; 0 for no limit)") from None
    if amount < 0:
        raise ValueError(f"{value!r}: a size cannot be negative")
    return int(amount * _SIZE_UNITS[unit])


def _valid_account_name(path: Path, name: str, line: int) -> None:
    """Account names become folders under --store: no '/', no '..', nothing odd."""
    problem = account_name_problem(name)
    if problem:
        raise WorldError(path, problem, line)


def build_store(
    world: World | None = None,
    *,
    extra_accounts: tuple[AccountSpec, ...] | list[AccountSpec] = (),
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    seed_messages: bool = True,
    default_quota: int | None = None,
) -> MailStore:
    """A store holding the world (default: the embedded default world)."""
    world = world if world is not None else load_world()
    store = MailStore(world.domain, clock=clock, ids=ids)
    if default_quota is not None:
        store.default_quota = default_quota
    for spec in (*world.accounts, *extra_accounts):
        store.add_account(
            spec.name, spec.password, display_name=spec.display_name, aliases=spec.aliases, quota=spec.quota
        )
    for box in world.mailboxes:
        if not store.has_mailbox(box.account, box.name):
            store.create_mailbox(box.account, box.name, special_use=box.special_use, subscribed=box.subscribed)
    if seed_messages:
        for message in world.messages:
            store.append(
                message.account,
                message.mailbox,
                message.raw,
                flags=message.flags,
                internal_date=message.internal_date,
                check_quota=False,  # the world's own mail is there whatever the quota
            )
    return store


def _only(path: Path, lines: "KeyLines", table: str, entry: Any, allowed: set[str]) -> None:
    if not isinstance(entry, dict):
        raise WorldError(path, f"[{table}] entries must be tables")
    for key in entry:
        if key not in allowed:
            raise WorldError(
                path, f"unknown key {key!r} in [{table}] (allowed: {', '.join(sorted(allowed))})", lines.find(key)
            )


def _required(path: Path, lines: "KeyLines", entry: dict[str, Any], key: str, table: str) -> Any:
    if key not in entry or entry[key] in ("", None):
        raise WorldError(path, f"[{table}] entry lacks {key!r}", lines.find(f"[[{table}]]"))
    return entry[key]


def _known_account(path: Path, lines: "KeyLines", account: str, known: set[str]) -> None:
    if account.lower() not in known:
        raise WorldError(path, f"unknown account {account!r}", lines.find(account))


class KeyLines:
    """Finds the line where something is written in a TOML text, for error messages
    (tomllib gives no positions for values).

    `find` looks for the first line mentioning a needle, optionally within a range of
    lines; `key` for the line that assigns a key; `headers` for the lines of each
    `[[name]]` table, so a search can stay inside the n-th entry of an array.
    """

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def __len__(self) -> int:
        return len(self._lines)

    def find(self, needle: str, start: int = 1, end: int | None = None) -> int:
        """First line (1-based) in [start, end] containing `needle`, or 0."""
        stop = len(self._lines) if end is None else min(end, len(self._lines))
        for number in range(max(start, 1), stop + 1):
            if needle in self._lines[number - 1]:
                return number
        return 0

    def key(self, name: str, start: int = 1, end: int | None = None) -> int:
        """First line in [start, end] that assigns `name` (`name =` or `name.x =`,
        possibly inside an inline table), or 0."""
        pattern = re.compile(rf"(^|[{{,])\s*{re.escape(name)}\s*(=|\.\w)")
        stop = len(self._lines) if end is None else min(end, len(self._lines))
        for number in range(max(start, 1), stop + 1):
            if pattern.search(self._lines[number - 1]):
                return number
        return 0

    def headers(self, name: str) -> list[int]:
        """The lines of every `[[name]]` (or `[name]`) header, in order."""
        wanted = {f"[[{name}]]", f"[{name}]"}
        return [n for n, line in enumerate(self._lines, start=1) if line.split("#", 1)[0].strip() in wanted]


_KeyLines = KeyLines  # the former private name
