"""Assignments and built-in levels: TOML files read like lessons, every problem as
`file:line: what is wrong` (the lesson loader's `DataFileReader` does the checking).

An assignment says what an exercise asks. A client assignment names the protocol, an
optional world, how many conversations to wait for, and requirements checked on the
store and the messages afterwards ("one message to bob with a Subject and an
attachment named informe.pdf", "delete only message 2"). A server assignment names a
built-in level, the checks of it to leave out, and checks of its own. The format is
described in `assets/assignments/README.md`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from mailsim.events import Protocol
from mailsim.lesson.loader import LessonProblem, Span, read_toml
from mailsim.lesson.model import Text
from mailsim.resources import package_data
from mailsim.store.model import INBOX
from mailsim.store.world import World, load_world
from mailsim.testbench.checks import CheckSpec, ChecksReader

TOP_KEYS = {
    "format_version", "id", "kind", "protocol", "title", "summary", "world", "connections",
    "requirements", "level", "skip", "checks",
}
LEVEL_KEYS = {"format_version", "id", "protocol", "title", "summary", "include", "checks"}
REQUIREMENT_KEYS = {
    "message": {"to", "count", "subject", "from", "attachment", "text", "explain"},
    "deleted": {"account", "messages", "before", "explain"},
    "command": {"verb", "explain"},
}
KINDS = ("client", "server")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class AssignmentError(ValueError):
    """An assignment or level file with problems; `problems` lists each with its line."""

    def __init__(self, problems: list[LessonProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


@dataclass(frozen=True, slots=True)
class MessageRequired:
    """Messages delivered to `to` during the run, each with the properties asked."""

    to: str
    count: int | None = None     # exactly this many (None: at least one)
    subject: str | None = None   # a regular expression ("" = any non-empty Subject)
    sender: str = ""             # the From: header contains this
    attachment: str = ""         # a part with this file name
    text: str = ""               # a regular expression the text must match
    explain: Text | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class DeletedRequired:
    """Exactly these messages were removed from `account`'s INBOX, and no others: the
    numbers in `messages` (as the maildrop was at the start, from 1), or every message
    whose Date: is earlier than `before`."""

    account: str
    messages: tuple[int, ...] = ()
    before: datetime | None = None
    explain: Text | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class CommandRequired:
    """The client used `verb` and the server accepted it."""

    verb: str
    explain: Text | None = None
    line: int = 0


Requirement = MessageRequired | DeletedRequired | CommandRequired


@dataclass(frozen=True, slots=True)
class Assignment:
    id: str
    kind: str
    protocol: Protocol
    title: Text
    summary: Text
    world: World | None = None
    connections: int = 1
    requirements: tuple[Requirement, ...] = ()
    level: str = ""
    skip: tuple[str, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class Level:
    id: str
    protocol: Protocol
    title: Text
    summary: Text
    checks: tuple[CheckSpec, ...]


# -- loading ------------------------------------------------------------------------------------


def load_assignment(path: Path | str) -> Assignment:
    assignment, problems = _read(Path(path))
    if problems or assignment is None:
        raise AssignmentError(problems)
    return assignment


def check_assignment(path: Path | str) -> list[LessonProblem]:
    return _read(Path(path))[1]


def levels_dir() -> Path:
    return package_data("testbench", "levels")


def level_names() -> list[str]:
    return sorted(p.stem for p in levels_dir().glob("*.toml"))


def load_level(name: str, _including: tuple[str, ...] = ()) -> Level:
    """A built-in level with the checks of the levels it includes first."""
    path = levels_dir() / f"{name}.toml"
    if name not in level_names():
        raise AssignmentError([LessonProblem(str(path), 0, f"no level {name!r} (levels: {', '.join(level_names())})")])
    text, data, problems = read_toml(path)
    if data is None:
        raise AssignmentError(problems)
    reader = _Reader(path, text)
    level = reader.level(data, (*_including, name))
    if reader.problems or level is None:
        raise AssignmentError(reader.problems)
    return level


def _read(path: Path) -> tuple[Assignment | None, list[LessonProblem]]:
    text, data, problems = read_toml(path)
    if data is None:
        return None, problems
    reader = _Reader(path, text)
    return reader.assignment(data), reader.problems


class _Reader(ChecksReader):
    def header(self, data: dict[str, Any], allowed: set[str]) -> tuple[str, Protocol | None, Text | None, Text | None]:
        top = Span(1, (self.lines.headers("world") or self.lines.headers("requirements") or self.lines.headers("checks") or [None])[0])
        self.format_version(data)
        self.only(data, allowed, "the file", Span(1))
        ident = self.string(data, "id", "the file", top)
        if ident and not _ID.match(ident):
            self.problem(self.key_line("id", top), f"id {ident!r}: use lower-case letters, digits and '-'")
        protocol = None
        try:
            protocol = Protocol(str(data.get("protocol", "")).lower())
        except ValueError:
            self.problem(self.key_line("protocol", top), f"'protocol' must be smtp, pop3 or imap, not {data.get('protocol')!r}")
        title = self.text_of(data.get("title"), "title", "the file", top)
        summary = self.text_of(data.get("summary"), "summary", "the file", top)
        return ident, protocol, title, summary

    def level(self, data: dict[str, Any], including: tuple[str, ...]) -> Level | None:
        ident, protocol, title, summary = self.header(data, LEVEL_KEYS)
        checks: list[CheckSpec] = []
        for name in data.get("include", []):
            if name in including:
                self.problem(self.key_line("include", Span(1)), f"level {name!r} includes itself")
                continue
            try:
                checks += load_level(name, including).checks
            except AssignmentError as exc:
                self.problems += exc.problems
        checks += self.checks(data.get("checks"))
        if self.problems or protocol is None or title is None or summary is None:
            return None
        return Level(ident, protocol, title, summary, tuple(checks))

    def assignment(self, data: dict[str, Any]) -> Assignment | None:
        ident, protocol, title, summary = self.header(data, TOP_KEYS)
        top = Span(1)
        kind = data.get("kind")
        if kind not in KINDS:
            self.problem(self.key_line("kind", top), f"'kind' must be 'client' (the student writes a client) or 'server'")
        world = self.read_world(data["world"]) if "world" in data else None
        connections = data.get("connections", 1)
        if not isinstance(connections, int) or isinstance(connections, bool) or connections < 1:
            self.problem(self.key_line("connections", top), "'connections' must be a whole number from 1")
            connections = 1
        requirements = self.requirements(data.get("requirements", []))
        self.check_against_world(requirements, world)
        level_name = data.get("level", "")
        skip = data.get("skip", [])
        checks = self.checks(data.get("checks"))
        if kind == "client":
            for key in ("level", "skip", "checks"):
                if key in data:
                    self.problem(self.key_line(key, top), f"'{key}' is for server assignments (kind = 'server')")
        if kind == "server":
            for key in ("requirements", "connections", "world"):
                if key in data:
                    self.problem(self.key_line(key, top), f"'{key}' is for client assignments (kind = 'client')")
            if level_name and level_name not in level_names():
                self.problem(self.key_line("level", top), f"no level {level_name!r} (levels: {', '.join(level_names())})")
            elif level_name:
                level = load_level(level_name)
                if protocol is not None and level.protocol is not protocol:
                    self.problem(self.key_line("level", top), f"level {level_name!r} is for {level.protocol.value}, not {protocol.value}")
                known = {c.id for c in level.checks}
                if not isinstance(skip, list) or not all(isinstance(s, str) for s in skip):
                    self.problem(self.key_line("skip", top), "'skip' must be a list of check ids")
                    skip = []
                for name in skip:
                    if name not in known:
                        self.problem(self.key_line("skip", top), f"level {level_name!r} has no check {name!r}")
            if not level_name and not checks:
                self.problem(1, "a server assignment needs a 'level' or its own [[checks]]")
        if self.problems or protocol is None or title is None or summary is None:
            return None
        return Assignment(
            id=ident, kind=kind, protocol=protocol, title=title, summary=summary, world=world,
            connections=connections, requirements=tuple(requirements), level=level_name,
            skip=tuple(skip), checks=tuple(checks), path=self.path,
        )

    def check_against_world(self, requirements: list[Requirement], world: World | None) -> None:
        """Accounts the requirements name exist, and message numbers are in the INBOX."""
        world = world if world is not None else load_world()
        accounts = {a.name.lower() for a in world.accounts}
        for requirement in requirements:
            if isinstance(requirement, MessageRequired) and "@" not in requirement.to and requirement.to.lower() not in accounts:
                self.problem(requirement.line, f"'to': no account {requirement.to!r} in the world (use an account name or an address)")
            if isinstance(requirement, DeletedRequired):
                if requirement.account.lower() not in accounts:
                    self.problem(requirement.line, f"'account': no account {requirement.account!r} in the world")
                    continue
                inbox = sum(1 for m in world.messages if m.account.lower() == requirement.account.lower() and m.mailbox == INBOX)
                beyond = [n for n in requirement.messages if n > inbox]
                if beyond:
                    self.problem(requirement.line, f"'messages': {requirement.account}'s INBOX starts with {inbox} messages, not {max(beyond)}")

    def requirements(self, value: Any) -> list[Requirement]:
        if not isinstance(value, list):
            self.problem(self.lines.key("requirements") or 1, "'requirements' must be an array of tables ([[requirements]])")
            return []
        found: list[Requirement] = []
        for index, (entry, span) in enumerate(zip(value, self.spans("requirements", len(value)))):
            where = f"requirement {index + 1}"
            if not isinstance(entry, dict):
                self.problem(span.start, f"{where} must be a table")
                continue
            kind = entry.get("kind")
            if kind not in REQUIREMENT_KEYS:
                self.problem(self.key_line("kind", span), f"{where}: 'kind' must be one of {', '.join(REQUIREMENT_KEYS)}")
                continue
            self.only(entry, REQUIREMENT_KEYS[kind] | {"kind"}, f"{where} ({kind})", span)
            explain = self.text_of(entry.get("explain"), "explain", where, span, required=False)
            requirement = self.requirement(kind, entry, where, span, explain)
            if requirement is not None:
                found.append(requirement)
        return found

    def requirement(self, kind: str, entry: dict[str, Any], where: str, span: Span, explain: Text | None) -> Requirement | None:
        if kind == "message":
            count = entry.get("count")
            if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
                self.problem(self.key_line("count", span), f"{where}: 'count' must be a whole number")
                count = None
            subject = entry.get("subject")
            if subject is True:
                subject = ""
            for key in ("subject", "text"):
                pattern = subject if key == "subject" else entry.get("text", "")
                if pattern is None:
                    continue
                try:
                    re.compile(pattern)
                except (re.error, TypeError):
                    self.problem(self.key_line(key, span), f"{where}: {key!r} must be a regular expression (or true for any)")
            return MessageRequired(
                to=self.string(entry, "to", where, span),
                count=count,
                subject=subject if isinstance(subject, str) else None,
                sender=self.string(entry, "from", where, span, required=False),
                attachment=self.string(entry, "attachment", where, span, required=False),
                text=entry.get("text", "") if isinstance(entry.get("text", ""), str) else "",
                explain=explain,
                line=span.start,
            )
        if kind == "deleted":
            messages, before = entry.get("messages", []), entry.get("before")
            if ("messages" in entry) == (before is not None):
                self.problem(span.start, f"{where}: give 'messages' (numbers) or 'before' (a date), one of them")
            if not isinstance(messages, list) or not all(isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in messages):
                self.problem(self.key_line("messages", span), f"{where}: 'messages' must be a list of message numbers (from 1)")
                messages = []
            if before is not None and not isinstance(before, (date, datetime)):
                self.problem(self.key_line("before", span), f"{where}: 'before' must be a TOML date or date-time (2026-09-05)")
                before = None
            if isinstance(before, date) and not isinstance(before, datetime):
                before = datetime(before.year, before.month, before.day)
            if isinstance(before, datetime) and before.tzinfo is None:
                before = before.replace(tzinfo=timezone.utc)
            return DeletedRequired(self.string(entry, "account", where, span), tuple(messages), before, explain, span.start)
        verb = self.string(entry, "verb", where, span)
        return CommandRequired(verb.upper(), explain, span.start)
