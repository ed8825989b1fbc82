"""Reads and checks lesson files: every problem as `file:line: what is wrong`.

The loader collects all the problems of a file, not just the first, so a teacher
fixes them in one pass. It refuses unknown keys, texts missing a language, and
expectations that can never match the engines as they are (a reply code the engine
never sends, a verb the protocol lacks, a state that does not exist), and world
messages that do not parse. TOML gives no positions for values: lines are found by
scanning the text (`KeyLines`), within the step the problem belongs to.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailsim.events import Protocol, ReplyClass
from mailsim.lesson.facts import facts, split_command
from mailsim.lesson.model import (
    FORMAT_VERSION,
    LANGUAGES,
    Action,
    Choice,
    CloseSession,
    CommandSent,
    DeletionMarked,
    DeliverMessage,
    Expectation,
    FlagChanged,
    InspectMessage,
    Lesson,
    Level,
    MailboxCreated,
    MessageDelivered,
    MessageOpened,
    MessagesExpunged,
    OpenSession,
    Panel,
    Question,
    QuestionKind,
    ReplyReceived,
    ShowPanel,
    StateReached,
    Step,
    Text,
    When,
)
from mailsim.mime.model import build_model
from mailsim.resources import assets_dir, lessons_dir
from mailsim.store.world import KeyLines, World, WorldError, load_world, world_from_data

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PART = re.compile(r"^(\d+(\.\d+)*)?(\.?(HEADER|TEXT|MIME))?$", re.IGNORECASE)
# Defects after which a message is not a message any more, only bytes.
_FATAL_DEFECTS = {
    "MissingHeaderBodySeparatorDefect",
    "NoBoundaryInMultipartDefect",
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
}

TOP_KEYS = {"format_version", "id", "title", "summary", "protocols", "level", "minutes", "prerequisites", "world", "steps"}
STEP_KEYS = {"id", "title", "instructions", "expect", "question", "hints", "demo", "session", "explanation", "actions"}
EXPECT_KEYS = {
    "command": {"verb", "argument"},
    "reply": {"code", "class", "key", "answering"},
    "state": {"state"},
    "delivered": {"to", "from"},
    "flag": {"flag", "set", "account", "mailbox"},
    "mailbox-created": {"name", "account"},
    "expunged": {"account", "mailbox"},
    "deletion-marked": {"marked"},
    "opened": {"part", "account"},
}
_EXPECT_COMMON = {"kind", "protocol", "times"}
_PROTOCOL_KINDS = {"command", "reply", "state"}
ACTION_KEYS = {
    "open-session": {"protocol", "name"},
    "close-session": {"name"},
    "inspect": {"account", "mailbox", "uid", "part"},
    "deliver": {"to", "from", "raw", "asset", "file"},
    "show-panel": {"panel"},
}
QUESTION_KEYS = {"kind", "prompt", "choices", "answers", "pattern", "right", "wrong"}


@dataclass(frozen=True, slots=True)
class LessonProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class LessonError(ValueError):
    """A lesson file with problems; `problems` lists each one with its line."""

    def __init__(self, problems: list[LessonProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def load_lesson(path: Path | str, *, known_ids: Iterable[str] | None = None) -> Lesson:
    """Read and check one lesson file; raises LessonError listing every problem.

    `known_ids` are the lesson ids prerequisites may name (default: the shipped library)."""
    lesson, problems = _read(Path(path), known_ids)
    if problems or lesson is None:
        raise LessonError(problems)
    return lesson


def check_lesson(path: Path | str, *, known_ids: Iterable[str] | None = None) -> list[LessonProblem]:
    return _read(Path(path), known_ids)[1]


def lesson_files(directory: Path | None = None) -> list[Path]:
    """The lesson files of a folder (default: the shipped library), in name order."""
    directory = directory or lessons_dir()
    return sorted(directory.glob("*.toml"))


def library_ids(directory: Path | None = None) -> set[str]:
    """The ids declared by the lesson files of a folder, read without checking them."""
    ids = set()
    for path in lesson_files(directory):
        try:
            lesson_id = tomllib.loads(path.read_text(encoding="utf-8")).get("id")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(lesson_id, str):
            ids.add(lesson_id)
    return ids


def check_files(paths: Iterable[Path | str]) -> list[LessonProblem]:
    """Check several files together: each one, plus ids shared by two files."""
    files = [Path(p) for p in paths]
    known = library_ids() | {i for i in (_peek_id(p) for p in files) if i}
    problems: list[LessonProblem] = []
    seen: dict[str, Path] = {}
    for path in files:
        problems += check_lesson(path, known_ids=known)
        lesson_id = _peek_id(path)
        if lesson_id and lesson_id in seen and seen[lesson_id].resolve() != path.resolve():
            problems.append(LessonProblem(str(path), _line_of_id(path), f"id {lesson_id!r} is also used by {seen[lesson_id]}"))
        elif lesson_id:
            seen[lesson_id] = path
    return problems


def _peek_id(path: Path) -> str | None:
    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get("id")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return value if isinstance(value, str) else None


def _line_of_id(path: Path) -> int:
    return KeyLines(path.read_text(encoding="utf-8")).key("id") or 1


# -- reading ---------------------------------------------------------------------------------


def _read(path: Path, known_ids: Iterable[str] | None) -> tuple[Lesson | None, list[LessonProblem]]:
    text, data, problems = read_toml(path)
    if data is None:
        return None, problems
    reader = _Reader(path, text, set(known_ids) if known_ids is not None else library_ids())
    lesson = reader.lesson(data)
    return lesson, reader.problems


def read_toml(path: Path) -> tuple[str, dict[str, Any] | None, list[LessonProblem]]:
    """A data file's text and TOML data; None and the problem (with its line) when it
    cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return "", None, [LessonProblem(str(path), 0, f"cannot read: {exc.strerror}")]
    except UnicodeDecodeError:
        return "", None, [LessonProblem(str(path), 0, "not UTF-8 text")]
    try:
        return text, tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "not valid TOML"
        return text, None, [LessonProblem(str(path), int(found.group(1)) if found else 0, f"TOML: {message}")]


@dataclass(frozen=True, slots=True)
class Span:
    """The lines a table occupies: problems inside it are looked for there."""

    start: int
    end: int | None = None


_Span = Span


class DataFileReader:
    """Reads a bilingual TOML data file (a lesson, an assignment) and collects every
    problem with its line: unknown keys, missing texts or languages, a wrong
    `format_version`. Subclasses read their own tables with these checks."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = KeyLines(text)
        self.text = text
        self.text_lines = text.splitlines()
        self.problems: list[LessonProblem] = []

    # -- problem reporting -------------------------------------------------------------------

    def problem(self, line: int, message: str) -> None:
        self.problems.append(LessonProblem(str(self.path), line, message))

    def spans(self, table: str, count: int) -> list[Span]:
        """The lines of each of the `count` entries of a `[[table]]` array, in order."""
        headers = self.lines.headers(table)
        return [
            Span(headers[i] if i < len(headers) else 1, headers[i + 1] - 1 if i + 1 < len(headers) else None)
            for i in range(count)
        ]

    def key_line(self, key: str, span: _Span) -> int:
        """Where `key` is set within `span`: `key = ...` or a `[....key]` table header."""
        assigned = self.lines.key(key, span.start, span.end)
        header = re.compile(rf"^\s*\[\[?([\w.-]+\.)?{re.escape(key)}\]\]?\s*(#.*)?$")
        stop = len(self.text_lines) if span.end is None else min(span.end, len(self.text_lines))
        table = next((n for n in range(max(span.start, 1), stop + 1) if header.match(self.text_lines[n - 1])), 0)
        found = [n for n in (assigned, table) if n]
        return min(found) if found else span.start

    def only(self, table: dict[str, Any], allowed: set[str], where: str, span: _Span) -> None:
        for key in table:
            if key not in allowed:
                self.problem(
                    self.key_line(key, span), f"unknown key {key!r} in {where} (allowed: {', '.join(sorted(allowed))})"
                )

    def string(self, table: dict[str, Any], key: str, where: str, span: _Span, *, required: bool = True) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(span.start, f"{where} lacks {key!r}")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(self.key_line(key, span), f"{where}: {key!r} must be a non-empty string")
            return ""
        return value

    def text_of(self, value: Any, key: str, where: str, span: _Span, *, required: bool = True) -> Text | None:
        """A bilingual text: a table with exactly `es` and `en`, both non-empty."""
        line = self.key_line(key, span) if key else span.start
        if value is None:
            if required:
                self.problem(span.start, f"{where} lacks {key!r} (a table with 'es' and 'en')")
            return None
        if not isinstance(value, dict):
            self.problem(line, f"{where}: {key or 'text'!r} must be a table with 'es' and 'en', not a {type(value).__name__}")
            return None
        for extra in value:
            if extra not in LANGUAGES and not (key == "" and extra in ("correct", "feedback")):
                self.problem(line, f"{where}: unknown language {extra!r} (use {' and '.join(LANGUAGES)})")
        texts = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.problem(line, f"{where}: missing language {lang!r}" if text is None else f"{where}: {lang!r} must be a non-empty string")
                text = ""
            texts[lang] = text.strip("\n")
        return Text(**texts)

    def entry_start(self, entry: Any, noun: str, index: int, span: Span, allowed: set[str]) -> tuple[str, str] | None:
        """What every entry of an array of tables starts with: a table, known keys, an
        id. Returns how to name it in messages ("step 'greet'") and its id."""
        where = f"{noun} {index + 1}"
        if not isinstance(entry, dict):
            self.problem(span.start, f"{where} must be a table")
            return None
        self.only(entry, allowed, where, span)
        entry_id = self.string(entry, "id", where, span)
        if entry_id:
            where = f"{noun} {entry_id!r}"
            if not _ID.match(entry_id):
                self.problem(self.key_line("id", span), f"{where}: use lower-case letters, digits and '-' in ids")
        return where, entry_id

    def format_version(self, data: dict[str, Any]) -> None:
        version = data.get("format_version")
        line = self.lines.key("format_version") or 1
        if version is None:
            self.problem(1, f"the file must start with 'format_version = {FORMAT_VERSION}'")
            return
        if version != FORMAT_VERSION:
            self.problem(line, f"format_version {version!r} is not supported (this mailsim reads {FORMAT_VERSION})")
        first = next((n for n in range(1, len(self.lines) + 1) if self._meaningful(n)), 0)
        if first and first != line:
            self.problem(first, "'format_version' must come first")

    def _meaningful(self, number: int) -> bool:
        line = self.text_lines[number - 1].strip()
        return bool(line) and not line.startswith("#")

    def read_world(self, data: Any) -> World | None:
        """A `[world]` table: accounts, folders and messages, each message parsed."""
        start = (self.lines.headers("world") or [self.lines.key("world") or 1])[0]
        if not isinstance(data, dict):
            self.problem(start, "'world' must be a table")
            return None
        try:
            world = world_from_data(data, self.path, lines=self.lines, prefix="world.")
        except WorldError as exc:
            self.problem(exc.line or start, exc.message)
            return None
        headers = self.lines.headers("world.messages")
        for index, message in enumerate(world.messages):
            line = headers[index] if index < len(headers) else start
            reason = _unparseable(message.raw)
            if reason:
                self.problem(line, f"world message {index + 1} does not parse: {reason}")
        return world


class _Reader(DataFileReader):
    def __init__(self, path: Path, text: str, known_ids: set[str]) -> None:
        super().__init__(path, text)
        self.known_ids = known_ids
        self.protocols: tuple[Protocol, ...] = ()
        self.world: World | None = None
        self.sessions: dict[str, Protocol] = {}  # opened by the steps read so far

    # -- the lesson --------------------------------------------------------------------------

    def lesson(self, data: dict[str, Any]) -> Lesson | None:
        tables = self.lines.headers("world") or self.lines.headers("steps")
        top = _Span(1, tables[0] if tables else None)
        self.format_version(data)
        self.only(data, TOP_KEYS, "the lesson", _Span(1))
        lesson_id = self.string(data, "id", "the lesson", top)
        if lesson_id and not _ID.match(lesson_id):
            self.problem(self.key_line("id", top), f"id {lesson_id!r}: use lower-case letters, digits and '-'")
        title = self.text_of(data.get("title"), "title", "the lesson", top)
        summary = self.text_of(data.get("summary"), "summary", "the lesson", top)
        self.protocols = self.protocol_list(data.get("protocols"), top)
        level = self.level(data.get("level"), top)
        minutes = data.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            self.problem(self.key_line("minutes", top), "'minutes' must be a positive whole number")
            minutes = 0
        prerequisites = data.get("prerequisites", [])
        if not isinstance(prerequisites, list) or not all(isinstance(p, str) for p in prerequisites):
            self.problem(self.key_line("prerequisites", top), "'prerequisites' must be a list of lesson ids")
            prerequisites = []
        for prerequisite in prerequisites:
            if prerequisite not in self.known_ids:
                self.problem(self.key_line("prerequisites", top), f"prerequisite {prerequisite!r} is not a known lesson id")
        if "world" in data:
            self.world = self.read_world(data["world"])
        steps = self.steps(data.get("steps"))
        if self.problems or title is None or summary is None or level is None:
            return None
        return Lesson(
            id=lesson_id,
            title=title,
            summary=summary,
            protocols=self.protocols,
            level=level,
            minutes=minutes,
            steps=tuple(steps),
            prerequisites=tuple(prerequisites),
            world=self.world,
            path=self.path,
        )

    def protocol_list(self, value: Any, span: _Span) -> tuple[Protocol, ...]:
        line = self.key_line("protocols", span)
        if not isinstance(value, list) or not value:
            self.problem(line, "'protocols' must be a non-empty list (smtp, pop3, imap)")
            return ()
        found = []
        for name in value:
            try:
                found.append(Protocol(str(name).lower()))
            except ValueError:
                self.problem(line, f"unknown protocol {name!r} (smtp, pop3 or imap)")
        return tuple(found)

    def level(self, value: Any, span: _Span) -> Level | None:
        try:
            return Level(value)
        except ValueError:
            self.problem(self.key_line("level", span), f"level {value!r} is not one of {', '.join(l.value for l in Level)}")
            return None

    # -- the world ---------------------------------------------------------------------------

    def effective_world(self) -> World | None:
        if self.world is not None:
            return self.world
        try:
            return load_world()
        except WorldError:
            return None

    # -- steps -------------------------------------------------------------------------------

    def steps(self, value: Any) -> list[Step]:
        if not isinstance(value, list) or not value:
            self.problem(len(self.lines) or 1, "a lesson needs at least one [[steps]]")
            return []
        steps, ids = [], set()
        for index, (entry, span) in enumerate(zip(value, self.spans("steps", len(value)))):
            step = self.step(entry, index, span)
            if step is None:
                continue
            if step.id in ids:
                self.problem(self.key_line("id", span), f"step id {step.id!r} is used twice")
            ids.add(step.id)
            steps.append(step)
        return steps

    def step(self, entry: Any, index: int, span: _Span) -> Step | None:
        started = self.entry_start(entry, "step", index, span, STEP_KEYS)
        if started is None:
            return None
        where, step_id = started
        title = self.text_of(entry.get("title"), "title", where, span)
        instructions = self.text_of(entry.get("instructions"), "instructions", where, span)
        actions = self.actions(entry.get("actions", []), where, span)
        expect, times = (None, 1)
        if "expect" in entry:
            expect, times = self.expectation(entry["expect"], where, self.sub_span("expect", span))
        question = self.question(entry["question"], where, self.sub_span("question", span)) if "question" in entry else None
        if expect is not None and question is not None:
            self.problem(self.key_line("question", span), f"{where}: a step has an expectation or a question, not both")
        hints = self.hints(entry.get("hints", []), where, span)
        explanation = self.text_of(entry.get("explanation"), "explanation", where, span, required=False)
        demo = self.demo(entry.get("demo"), where, span)
        session = entry.get("session", "")
        if not isinstance(session, str):
            self.problem(self.key_line("session", span), f"{where}: 'session' must be a session name")
            session = ""
        for action in actions:
            if isinstance(action, OpenSession):
                self.sessions[action.name] = action.protocol
        protocol = getattr(expect, "protocol", None) or (self.protocols[0] if len(self.protocols) == 1 else None)
        if demo:
            self.check_demo(demo, expect, protocol, session, where, span)
        if title is None or instructions is None:
            return None
        return Step(
            id=step_id,
            title=title,
            instructions=instructions,
            expect=expect,
            times=times,
            question=question,
            hints=tuple(hints),
            demo=tuple(demo),
            session=session,
            explanation=explanation,
            actions=tuple(actions),
            line=span.start,
        )

    def sub_span(self, name: str, span: _Span) -> _Span:
        line = self.lines.find(f"[steps.{name}]", span.start, span.end) or self.key_line(name, span)
        return _Span(line, span.end)

    def hints(self, value: Any, where: str, span: _Span) -> list[Text]:
        if not isinstance(value, list):
            self.problem(self.key_line("hints", span), f"{where}: 'hints' must be a list of texts")
            return []
        hint_lines = [n for n in self.lines.headers("steps.hints") if n >= span.start and (span.end is None or n <= span.end)]
        hints = []
        for number, hint in enumerate(value):
            line = hint_lines[number] if number < len(hint_lines) else self.key_line("hints", span)
            text = self.text_of(hint, "", f"{where}, hint {number + 1}", _Span(line, span.end))
            if text is not None:
                hints.append(text)
        return hints

    def demo(self, value: Any, where: str, span: _Span) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(self.key_line("demo", span), f"{where}: 'demo' must be a line or a list of lines")
            return []
        return value

    def check_demo(
        self, demo: list[str], expect: Expectation | None, protocol: Protocol | None, session: str, where: str, span: _Span
    ) -> None:
        line = self.key_line("demo", span)
        if session:
            if session not in self.sessions:
                self.problem(self.key_line("session", span), f"{where}: no step so far opens a session named {session!r}")
                return
        elif protocol is None:
            self.problem(line, f"{where}: a demo needs 'session' (or an expectation naming the protocol)")
            return
        elif protocol not in self.sessions.values():
            self.problem(line, f"{where}: the demo is typed into a {protocol.value} session, but no step so far opens one")
            return
        if isinstance(expect, CommandSent):
            commands = [split_command(expect.protocol, d.encode()) for d in demo]
            if not any(c is not None and c[0] == expect.verb and (expect.argument is None or expect.argument.search(c[1])) for c in commands):
                self.problem(line, f"{where}: the demo does not send the expected {expect.verb} command")

    # -- expectations ------------------------------------------------------------------------

    def expectation(self, table: Any, where: str, span: _Span) -> tuple[Expectation | None, int]:
        where = f"{where}, expect"
        if not isinstance(table, dict):
            self.problem(span.start, f"{where} must be a table")
            return None, 1
        kind = table.get("kind")
        if kind not in EXPECT_KEYS:
            self.problem(self.key_line("kind", span), f"{where}: 'kind' must be one of {', '.join(EXPECT_KEYS)}")
            return None, 1
        self.only(table, EXPECT_KEYS[kind] | _EXPECT_COMMON, f"{where} ({kind})", span)
        times = table.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            self.problem(self.key_line("times", span), f"{where}: 'times' must be a whole number, 1 or more")
            times = 1
        protocol = self.expect_protocol(table, kind, where, span)
        try:
            return self.expectation_of_kind(kind, table, protocol, where, span), times
        except _Unmatchable as exc:
            self.problem(self.key_line(exc.key, span), f"{where}: {exc.message}")
            return None, times

    def expect_protocol(self, table: dict[str, Any], kind: str, where: str, span: _Span) -> Protocol | None:
        name = table.get("protocol")
        if name is None:
            if kind in _PROTOCOL_KINDS and len(self.protocols) != 1:
                self.problem(span.start, f"{where}: say which 'protocol' (the lesson uses several)")
                return None
            return self.protocols[0] if len(self.protocols) == 1 else None
        try:
            protocol = Protocol(str(name).lower())
        except ValueError:
            self.problem(self.key_line("protocol", span), f"{where}: unknown protocol {name!r}")
            return None
        if protocol not in self.protocols:
            self.problem(self.key_line("protocol", span), f"{where}: protocol {name!r} is not in the lesson's 'protocols'")
        return protocol

    def expectation_of_kind(
        self, kind: str, table: dict[str, Any], protocol: Protocol | None, where: str, span: _Span
    ) -> Expectation | None:
        known = facts(protocol) if protocol is not None else None
        if kind in _PROTOCOL_KINDS and protocol is None:
            return None
        assert protocol is not None or kind not in _PROTOCOL_KINDS
        if kind == "command" and protocol is not None:
            verb = self.string(table, "verb", where, span).upper()
            if known is not None and verb and not _has_verb(known.verbs, verb):
                raise _Unmatchable("verb", f"{protocol.value.upper()} has no command {verb!r}")
            return CommandSent(protocol, verb, self.pattern(table, "argument", where, span))
        if kind == "reply" and protocol is not None:
            return self.reply(table, protocol, known, where, span)
        if kind == "state" and protocol is not None:
            state = self.string(table, "state", where, span).lower()
            if known is not None and state and state not in known.states:
                raise _Unmatchable(
                    "state", f"{protocol.value.upper()} has no state {state!r} (its states: {', '.join(sorted(known.states))})"
                )
            return StateReached(protocol, state)
        if kind == "delivered":
            to = self.string(table, "to", where, span, required=False)
            if to:
                self.check_local_address(to, "to", where, span)
            return MessageDelivered(to=to, sender=self.string(table, "from", where, span, required=False))
        if kind == "flag":
            flag = self.string(table, "flag", where, span)
            present = table.get("set", True)
            if not isinstance(present, bool):
                raise _Unmatchable("set", "'set' must be true or false")
            if flag.startswith("\\") and flag.lower() not in {"\\seen", "\\answered", "\\flagged", "\\deleted", "\\draft"}:
                raise _Unmatchable("flag", f"{flag!r} is not a system flag (\\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft)")
            return FlagChanged(flag, present, self.account(table, where, span), self.string(table, "mailbox", where, span, required=False))
        if kind == "mailbox-created":
            return MailboxCreated(self.string(table, "name", where, span, required=False), self.account(table, where, span))
        if kind == "expunged":
            return MessagesExpunged(self.account(table, where, span), self.string(table, "mailbox", where, span, required=False))
        if kind == "deletion-marked":
            marked = table.get("marked", True)
            if not isinstance(marked, bool):
                raise _Unmatchable("marked", "'marked' must be true or false")
            return DeletionMarked(marked)
        part = self.string(table, "part", where, span, required=False)
        if part and not _PART.match(part):
            raise _Unmatchable("part", f"{part!r} is not an IMAP section number such as 1, 2.1 or 2.MIME")
        return MessageOpened(part.upper(), self.account(table, where, span))

    def reply(self, table: dict[str, Any], protocol: Protocol, known: Any, where: str, span: _Span) -> ReplyReceived:
        code = str(table.get("code", "")).upper()
        key = self.string(table, "key", where, span, required=False)
        class_name = table.get("class", "")
        answering = self.string(table, "answering", where, span, required=False).upper()
        if not (code or key or class_name):
            raise _Unmatchable("kind", "a reply expectation needs 'code', 'class' or 'key'")
        reply_class = None
        if class_name:
            try:
                reply_class = ReplyClass(class_name)
            except ValueError:
                raise _Unmatchable("class", f"unknown reply class {class_name!r} ({', '.join(c.value for c in ReplyClass)})") from None
        name = protocol.value.upper()
        if known is not None:
            if code and code not in known.codes:
                raise _Unmatchable("code", f"the {name} server never replies {code} (it sends {', '.join(sorted(known.codes))})")
            if key and key not in known.keys:
                raise _Unmatchable("key", f"the {name} server has no reply {key!r}")
            if key and code and code not in known.codes_of_key(key):
                raise _Unmatchable("key", f"reply {key!r} is {'/'.join(sorted(known.codes_of_key(key)))}, never {code}")
            if reply_class is not None and not any(c.satisfies(reply_class) for c in known.classes):
                raise _Unmatchable("class", f"the {name} server never sends a reply of class {class_name!r}")
            if answering and not _has_verb(known.verbs, answering):
                raise _Unmatchable("answering", f"{name} has no command {answering!r}")
        return ReplyReceived(protocol, code, reply_class, key, answering)

    def pattern(self, table: dict[str, Any], key: str, where: str, span: _Span) -> re.Pattern[str] | None:
        source = table.get(key)
        if source is None:
            return None
        if not isinstance(source, str):
            raise _Unmatchable(key, f"{key!r} must be a regular expression in a string")
        try:
            return re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise _Unmatchable(key, f"{key!r} is not a valid regular expression: {exc}") from None

    def account(self, table: dict[str, Any], where: str, span: _Span) -> str:
        name = self.string(table, "account", where, span, required=False)
        world = self.effective_world()
        if name and world is not None and name.lower() not in {a.name.lower() for a in world.accounts}:
            raise _Unmatchable("account", f"the lesson's world has no account {name!r}")
        return name

    def check_local_address(self, address: str, key: str, where: str, span: _Span) -> None:
        world = self.effective_world()
        if world is None or "@" not in address:
            if "@" not in address:
                raise _Unmatchable(key, f"{address!r} is not an address (local-part@domain)")
            return
        local, _, domain = address.rpartition("@")
        if domain.lower() != world.domain.lower():
            return
        names = {a.name.lower() for a in world.accounts} | {alias.lower() for a in world.accounts for alias in a.aliases}
        if local.lower() not in names:
            raise _Unmatchable(key, f"no account of the lesson's world receives mail for {address!r}")

    # -- actions -----------------------------------------------------------------------------

    def actions(self, value: Any, where: str, span: _Span) -> list[Action]:
        if not isinstance(value, list):
            self.problem(self.key_line("actions", span), f"{where}: 'actions' must be a list of tables")
            return []
        lines = [n for n in self.lines.headers("steps.actions") if n >= span.start and (span.end is None or n <= span.end)]
        actions = []
        for number, entry in enumerate(value):
            action_span = _Span(lines[number] if number < len(lines) else self.key_line("actions", span), span.end)
            try:
                action = self.action(entry, f"{where}, action {number + 1}", action_span)
            except _Unmatchable as exc:
                self.problem(self.key_line(exc.key, action_span), f"{where}, action {number + 1}: {exc.message}")
                continue
            if action is not None:
                actions.append(action)
        return actions

    def action(self, entry: Any, where: str, span: _Span) -> Action | None:
        if not isinstance(entry, dict):
            raise _Unmatchable("actions", "must be a table")
        do = entry.get("do")
        if do not in ACTION_KEYS:
            raise _Unmatchable("do", f"'do' must be one of {', '.join(ACTION_KEYS)}")
        self.only(entry, ACTION_KEYS[do] | {"do", "when"}, f"{where} ({do})", span)
        try:
            when = When(entry.get("when", "start"))
        except ValueError:
            raise _Unmatchable("when", "'when' must be 'start' or 'success'") from None
        if do == "open-session":
            try:
                protocol = Protocol(str(entry.get("protocol", "")).lower())
            except ValueError:
                raise _Unmatchable("protocol", "'protocol' must be smtp, pop3 or imap") from None
            if protocol not in self.protocols:
                raise _Unmatchable("protocol", f"protocol {protocol.value!r} is not in the lesson's 'protocols'")
            name = entry.get("name", protocol.value)
            if not isinstance(name, str) or not name:
                raise _Unmatchable("name", "'name' must be a non-empty string")
            return OpenSession(protocol, name, when)
        if do == "close-session":
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                raise _Unmatchable("do", "'close-session' needs 'name', the session to drop")
            if name not in self.sessions:
                opened = ", ".join(sorted(self.sessions)) or "none"
                raise _Unmatchable("name", f"no session named {name!r} is opened by an earlier step (opened: {opened})")
            return CloseSession(name, when)
        if do == "inspect":
            account = self.account(entry, where, span)
            if not account:
                raise _Unmatchable("do", "'inspect' needs 'account'")
            uid = entry.get("uid", 0)
            if not isinstance(uid, int) or isinstance(uid, bool) or uid < 0:
                raise _Unmatchable("uid", "'uid' must be a message UID (0 = the newest message)")
            part = str(entry.get("part", ""))
            if part and not _PART.match(part):
                raise _Unmatchable("part", f"{part!r} is not an IMAP section number such as 1, 2.1 or 2.MIME")
            mailbox = entry.get("mailbox", "INBOX")
            return InspectMessage(account, mailbox, uid, part.upper(), when)
        if do == "deliver":
            to = self.string(entry, "to", where, span)
            if to:
                self.check_local_address(to, "to", where, span)
            raw = self.message_bytes(entry, where, span)
            return DeliverMessage(to, raw, self.string(entry, "from", where, span, required=False), when)
        try:
            return ShowPanel(Panel(str(entry.get("panel"))), when)
        except ValueError:
            raise _Unmatchable("panel", f"'panel' must be one of {', '.join(p.value for p in Panel)}") from None

    def message_bytes(self, entry: dict[str, Any], where: str, span: _Span) -> bytes:
        sources = [k for k in ("raw", "asset", "file") if k in entry]
        if len(sources) != 1:
            raise _Unmatchable("do", "'deliver' needs exactly one of 'raw', 'asset' or 'file'")
        key = sources[0]
        if key == "raw":
            raw = str(entry["raw"]).replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        else:
            source = (assets_dir() if key == "asset" else self.path.parent) / str(entry[key])
            try:
                raw = source.read_bytes()
            except OSError:
                raise _Unmatchable(key, f"message {key} {entry[key]!r} not found") from None
        reason = _unparseable(raw)
        if reason:
            raise _Unmatchable(key, f"the message does not parse: {reason}")
        return raw

    # -- questions ---------------------------------------------------------------------------

    def question(self, table: Any, where: str, span: _Span) -> Question | None:
        where = f"{where}, question"
        if not isinstance(table, dict):
            self.problem(span.start, f"{where} must be a table")
            return None
        self.only(table, QUESTION_KEYS, where, span)
        try:
            kind = QuestionKind(table.get("kind", "choice"))
        except ValueError:
            self.problem(self.key_line("kind", span), f"{where}: 'kind' must be 'choice' or 'text'")
            return None
        prompt = self.text_of(table.get("prompt"), "prompt", where, span)
        right = self.text_of(table.get("right"), "right", where, span, required=False)
        wrong = self.text_of(table.get("wrong"), "wrong", where, span, required=False)
        choices: list[Choice] = []
        answers: dict[str, tuple[str, ...]] = {}
        pattern = None
        if kind is QuestionKind.CHOICE:
            entries = table.get("choices")
            if not isinstance(entries, list) or len(entries) < 2:
                self.problem(self.key_line("choices", span) if "choices" in table else span.start, f"{where}: a choice question needs at least two [[steps.question.choices]]")
                entries = []
            lines = [n for n in self.lines.headers("steps.question.choices") if n >= span.start and (span.end is None or n <= span.end)]
            for number, entry in enumerate(entries):
                choice_span = _Span(lines[number] if number < len(lines) else span.start, span.end)
                label = f"{where}, choice {number + 1}"
                if not isinstance(entry, dict):
                    self.problem(choice_span.start, f"{label} must be a table")
                    continue
                self.only(entry, {"es", "en", "correct", "feedback"}, label, choice_span)
                text = self.text_of(entry, "", label, choice_span)
                correct = entry.get("correct", False)
                if not isinstance(correct, bool):
                    self.problem(self.key_line("correct", choice_span), f"{label}: 'correct' must be true or false")
                    correct = False
                feedback = self.text_of(entry.get("feedback"), "feedback", label, choice_span, required=False)
                if text is not None:
                    choices.append(Choice(text, correct, feedback))
            if entries and not any(c.correct for c in choices):
                self.problem(span.start, f"{where}: no choice is marked 'correct = true'")
        else:
            raw_answers = table.get("answers")
            if isinstance(raw_answers, list):
                raw_answers = {lang: raw_answers for lang in LANGUAGES}
            if not isinstance(raw_answers, dict):
                self.problem(self.key_line("answers", span) if "answers" in table else span.start,
                             f"{where}: a text question needs 'answers' (a list, or a table with 'es' and 'en' lists)")
                raw_answers = {}
            for lang in LANGUAGES:
                values = raw_answers.get(lang) if raw_answers else None
                if raw_answers and (not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values)):
                    self.problem(self.key_line("answers", span), f"{where}: missing language {lang!r} in 'answers'")
                    continue
                if values:
                    answers[lang] = tuple(values)
            for extra in raw_answers or {}:
                if extra not in LANGUAGES:
                    self.problem(self.key_line("answers", span), f"{where}: unknown language {extra!r} in 'answers'")
            if "pattern" in table:
                try:
                    pattern = self.pattern(table, "pattern", where, span)
                except _Unmatchable as exc:
                    self.problem(self.key_line("pattern", span), f"{where}: {exc.message}")
        if prompt is None:
            return None
        return Question(kind, prompt, tuple(choices), answers, pattern, right, wrong)


class _Unmatchable(Exception):
    def __init__(self, key: str, message: str) -> None:
        self.key, self.message = key, message


def _has_verb(verbs: frozenset[str], verb: str) -> bool:
    return all(word in verbs for word in verb.split())


def _unparseable(raw: bytes) -> str:
    """Why `raw` is not a message, or "" if it is one."""
    if not raw.strip():
        return "it is empty"
    model = build_model(raw)
    if not model.root.headers:
        return "it has no header fields (a message starts with lines such as 'From: ...')"
    for defect in model.defects:
        if defect.kind in _FATAL_DEFECTS:
            return defect.code.replace("-", " ") + (f" ({defect.detail})" if defect.detail else "")
    return ""
