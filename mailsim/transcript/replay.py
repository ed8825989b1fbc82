"""Replay: run a recording's client side again against today's engines, step by step.

The store is rebuilt from the recording's starting world, the id generator continues
where it stood, and the clock is pinned to each input's recorded time; so a server
that still behaves the same sends the same bytes, and any step where it does not is a
`Difference` (expected lines against actual lines, per session).

Everything the views need at each step is computed once, while replaying: the step's
lines and replies, each session's state (a list of changes to bisect), and the mailbox
listings (invertible deltas per step plus occasional checkpoints). Moving one step
forward or back applies one delta; jumping anywhere costs at most one checkpoint copy
and a bounded number of deltas — independent of the recording's length.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from mailsim.events import DeletionMarked, Event, Protocol, Reply, ServerLine, StateChanged
from mailsim.protocol.base import Session
from mailsim.store.changes import (
    FlagsChanged,
    MailboxCreated,
    MailboxDeleted,
    MailboxRenamed,
    MessageAdded,
    MessagesExpunged,
    StoreChange,
)
from mailsim.store.store import MailStore
from mailsim.transcript.recorder import TranscriptError
from mailsim.transcript.script import Action, ActionKind, Script, ScriptStep, load_script
from mailsim.transcript.snapshot import (
    SeededIds,
    SnapshotError,
    config_from_description,
    ids_from_description,
    restore_store,
)

DEFAULT_START_TIME = 1_790_000_000.0


class ReplayClock:
    """A clock that reads the recorded time of the input being replayed."""

    def __init__(self, start: float) -> None:
        self.current = start

    def pin(self, timestamp: float) -> None:
        self.current = timestamp

    def now(self) -> float:
        return self.current


# -- what each step holds -----------------------------------------------------------------


MailboxKey = tuple[str, str]  # (account, mailbox)


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One line of a mailbox listing."""

    uid: int
    flags: tuple[str, ...]
    size: int
    subject: str
    marked_deleted: bool = False  # POP3 DELE, not yet committed by QUIT
    raw: bytes = field(default=b"", repr=False)  # shared with the store, not copied: for the MIME inspector


@dataclass(frozen=True, slots=True)
class Difference:
    step: int            # 1-based step number
    line: int            # line of the recording where the step's input is
    session_id: str
    expected: tuple[bytes, ...]
    actual: tuple[bytes, ...]

    def first_mismatch(self) -> tuple[bytes | None, bytes | None]:
        for index in range(max(len(self.expected), len(self.actual))):
            want = self.expected[index] if index < len(self.expected) else None
            got = self.actual[index] if index < len(self.actual) else None
            if want != got:
                return want, got
        return None, None


@dataclass(frozen=True, slots=True)
class StepResult:
    index: int                          # 0-based
    session_id: str
    protocol: Protocol
    line: int
    timestamp: float
    actions: tuple[ActionKind, ...]
    client: bytes                       # everything the client sent in this step
    expected: tuple[tuple[str, bytes], ...]
    actual: tuple[tuple[str, bytes], ...]
    replies: tuple[Reply, ...]          # the actual complete replies
    events: tuple[Event, ...]           # every actual event (notes, deliveries, states...)
    differences: tuple[Difference, ...]

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def differs(self) -> bool:
        return bool(self.differences)

    def label(self) -> str:
        """A one-line summary for timelines: the command, or what happened."""
        kind = self.actions[0]
        if kind is ActionKind.SEND:
            first = self.client.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
            more = self.client.count(b"\n") - 1
            return first + (f" (+{more} lines)" if more > 0 else "")
        return {
            ActionKind.CONNECT: "(connect)",
            ActionKind.REFUSE: "(connect, refused)",
            ActionKind.EOF: "(client went away)",
            ActionKind.TIMEOUT: "(idle timeout)",
            ActionKind.SHUTDOWN: "(server shutdown)",
        }[kind]


# -- mailbox listings over time ----------------------------------------------------------------

Listing = dict[MailboxKey, dict[int, MessageRow]]
# A delta: (key, uid, old, new); uid 0 means the whole mailbox (old/new: row dict or None).
Delta = tuple[MailboxKey, int, Any, Any]

CHECKPOINT_MIN_DELTAS = 256


_SUBJECT = re.compile(rb"^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def _subject(raw: bytes) -> str:
    """The Subject, unfolded and decoded (RFC 2047); cheap enough for every delivery of
    a long recording (a full header parse is not)."""
    end = raw.find(b"\r\n\r\n")
    found = _SUBJECT.search(raw if end < 0 else raw[: end + 2])
    if found is None:
        return ""
    value = re.sub(r"\r?\n[ \t]", " ", found.group(1).decode("utf-8", "replace")).strip()
    try:
        value = str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):  # a broken encoded-word shows as sent
        pass
    return " ".join(value.split())


class MailboxTimeline:
    """Mailbox listings at every step, from deltas and checkpoints."""

    def __init__(self, store: MailStore) -> None:
        self._store = store
        self._live: Listing = {}
        for account in store.accounts.values():
            for mailbox in account.mailboxes.values():
                self._live[(account.name, mailbox.name)] = {m.uid: self._row(m.uid, m.flags, m.raw) for m in mailbox.messages}
        self._pending: list[Delta] = []
        self.deltas: list[tuple[Delta, ...]] = []  # deltas[i]: what step i changed
        self._checkpoints: list[tuple[int, Listing]] = [(0, self._copy(self._live))]  # (position, listing)
        self._since_checkpoint = 0
        self._rows = sum(len(v) for v in self._live.values())
        # The view cursor.
        self._position = 0
        self._view = self._copy(self._live)

    @staticmethod
    def _row(uid: int, flags: set[str] | frozenset[str], raw: bytes, marked: bool = False) -> MessageRow:
        return MessageRow(uid, tuple(sorted(flags)), len(raw), _subject(raw), marked, raw)

    @staticmethod
    def _copy(listing: Listing) -> Listing:
        return {key: dict(rows) for key, rows in listing.items()}

    # -- recording changes while replaying --

    def _set(self, key: MailboxKey, uid: int, new: Any) -> None:
        rows = self._live.get(key)
        if uid == 0:
            old = rows
            if new is None:
                self._live.pop(key, None)
            else:
                self._live[key] = dict(new)
            self._pending.append((key, 0, None if old is None else dict(old), None if new is None else dict(new)))
            return
        if rows is None:
            rows = self._live[key] = {}
        old = rows.get(uid)
        if new is None:
            rows.pop(uid, None)
        else:
            rows[uid] = new
        if old != new:
            self._pending.append((key, uid, old, new))

    def on_change(self, change: StoreChange) -> None:
        key = (change.account, change.mailbox)
        if isinstance(change, MessageAdded):
            message = self._store.mailbox(change.account, change.mailbox).by_uid(change.uid)
            if message is not None:
                self._set(key, change.uid, self._row(message.uid, message.flags, message.raw))
        elif isinstance(change, FlagsChanged):
            old = self._live.get(key, {}).get(change.uid)
            if old is not None:
                self._set(key, change.uid, replace(old, flags=tuple(sorted(change.flags))))
        elif isinstance(change, MessagesExpunged):
            for uid in change.uids:
                self._set(key, uid, None)
        elif isinstance(change, MailboxCreated):
            if key not in self._live:
                self._set(key, 0, {})
        elif isinstance(change, MailboxDeleted):
            self._set(key, 0, None)
        elif isinstance(change, MailboxRenamed):
            rows = self._live.get(key, {})
            self._set((change.account, change.new_name), 0, rows)
            self._set(key, 0, None)

    def on_event(self, event: Event) -> None:
        if isinstance(event, DeletionMarked):
            key = (event.account, event.mailbox)
            old = self._live.get(key, {}).get(event.uid)
            if old is not None:
                self._set(key, event.uid, replace(old, marked_deleted=event.marked))

    def end_step(self) -> None:
        deltas = tuple(self._pending)
        self._pending.clear()
        self.deltas.append(deltas)
        self._since_checkpoint += len(deltas)
        self._rows += sum((d[3] is not None) - (d[2] is not None) for d in deltas if d[1] != 0)
        if self._since_checkpoint >= max(CHECKPOINT_MIN_DELTAS, self._rows):
            self._checkpoints.append((len(self.deltas), self._copy(self._live)))
            self._since_checkpoint = 0

    # -- reading, at any position (number of steps applied) --

    def _apply(self, listing: Listing, deltas: tuple[Delta, ...], forward: bool) -> None:
        for key, uid, old, new in deltas if forward else reversed(deltas):
            value = new if forward else old
            if uid == 0:
                if value is None:
                    listing.pop(key, None)
                else:
                    listing[key] = dict(value)
                continue
            rows = listing.setdefault(key, {})
            if value is None:
                rows.pop(uid, None)
            else:
                rows[uid] = value

    def at(self, position: int) -> Listing:
        """The listings after `position` steps (0: the starting world). The result is
        the view's own copy: read it, do not keep it across calls."""
        position = max(0, min(position, len(self.deltas)))
        distance = abs(position - self._position)
        if distance > CHECKPOINT_MIN_DELTAS:
            index = bisect.bisect_right([p for p, _ in self._checkpoints], position) - 1
            start, listing = self._checkpoints[index]
            if abs(position - start) < distance:
                self._view, self._position = self._copy(listing), start
        while self._position < position:
            self._apply(self._view, self.deltas[self._position], True)
            self._position += 1
        while self._position > position:
            self._position -= 1
            self._apply(self._view, self.deltas[self._position], False)
        return self._view


# -- the replay ----------------------------------------------------------------------------------


class Replay:
    """A recording re-executed: its steps, differences, and the world at each step."""

    def __init__(self, script: Script, *, progress: Callable[[float], None] | None = None) -> None:
        self.script = script
        self.path = script.path
        self.warnings: list[str] = []
        self.steps: list[StepResult] = []
        self.session_protocols = dict(script.sessions)
        self._states: dict[str, tuple[list[int], list[str]]] = {}
        self._session_steps: dict[str, list[int]] | None = None
        self._reply_steps: dict[str, list[int]] = {}  # session -> steps where it got a reply
        self._run(progress)
        self.differences = [d for step in self.steps for d in step.differences]

    @classmethod
    def load(cls, path: str | Path, *, progress: Callable[[float], None] | None = None) -> "Replay":
        """Read (first half of `progress`) and re-execute (second half) a recording."""
        half = (lambda f: progress(f / 2)) if progress else None
        script = load_script(path, progress=half)
        rest = (lambda f: progress(0.5 + f / 2)) if progress else None
        return cls(script, progress=rest)

    # -- building -------------------------------------------------------------------------

    def _world(self) -> tuple[MailStore, ReplayClock, Any]:
        start = self.script.header.get("start")
        first = self.script.steps[0].timestamp if self.script.steps else DEFAULT_START_TIME
        if not isinstance(start, dict):
            from mailsim.store.world import build_store

            if self.script.header.get("source") != "rfc-style":
                self.warnings.append("the recording has no starting world: replaying against the default world")
            clock = ReplayClock(first or DEFAULT_START_TIME)
            store = build_store(clock=clock, ids=SeededIds("mailsim"))
            return store, clock, config_from_description(None, store.domain)
        try:
            clock = ReplayClock(float(start.get("time", first)))
            ids = ids_from_description(start.get("ids"))
            store = restore_store(start["store"], clock=clock, ids=ids)
            config = config_from_description(start.get("config"), store.domain)
        except (SnapshotError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TranscriptError(self.path, 1, f"starting world: {exc}") from None
        return store, clock, config

    def _run(self, progress: Callable[[float], None] | None) -> None:
        from mailsim.protocol.registry import ENGINES

        store, clock, config = self._world()
        self.store = store
        self.mailboxes = MailboxTimeline(store)
        store.subscribe(self.mailboxes.on_change)
        sessions: dict[str, Session] = {}
        live: dict[str, Session] = {}
        total = len(self.script.steps) or 1
        for index, step in enumerate(self.script.steps):
            for action in step.actions:
                clock.pin(action.timestamp)
                try:
                    self._perform(index, action, sessions, live, store, config, ENGINES)
                except TranscriptError:
                    raise
                except Exception as exc:  # an engine bug must not hide where it happened
                    raise TranscriptError(
                        self.path, action.line, f"the {action.protocol.value.upper()} engine failed here: {exc!r}"
                    ) from exc
            produced: list[Event] = []
            for session_id in self._drain_order(step.session_id, live):
                session = live[session_id]
                produced.extend(session.events())
                session.data_to_send()
                session.take_delay()
                if session.closed:
                    del live[session_id]
            for event in produced:
                self.mailboxes.on_event(event)
                if isinstance(event, Reply):
                    replied = self._reply_steps.setdefault(event.session_id, [])
                    if not replied or replied[-1] != index:
                        replied.append(index)
                if isinstance(event, StateChanged):
                    steps_list, states = self._states.setdefault(event.session_id, ([], []))
                    if steps_list and steps_list[-1] == index:
                        states[-1] = event.new
                    else:
                        steps_list.append(index)
                        states.append(event.new)
            self.mailboxes.end_step()
            self.steps.append(self._result(index, step, produced))
            if progress is not None and index % 2000 == 0:
                progress(index / total)
        if progress is not None:
            progress(1.0)

    @staticmethod
    def _drain_order(first: str, live: dict[str, Session]) -> list[str]:
        return ([first] if first in live else []) + [s for s in live if s != first]

    def _perform(self, index: int, action: Action, sessions: dict[str, Session], live: dict[str, Session],
                 store: MailStore, config: Any, engines: dict[Protocol, type[Session]]) -> None:
        session = sessions.get(action.session_id)
        if action.kind in (ActionKind.CONNECT, ActionKind.REFUSE):
            engine = engines.get(action.protocol)
            if engine is None:
                raise TranscriptError(self.path, action.line, f"no {action.protocol.value.upper()} engine in this version")
            session = engine(store, session_id=action.session_id, peer=action.peer, config=config,
                             read_only=action.read_only)
            sessions[action.session_id] = live[action.session_id] = session
            self._states[action.session_id] = ([index], [str(session.state.value)])
            if action.kind is ActionKind.CONNECT:
                session.start()
            else:
                session.refuse_busy()
            return
        if session is None:  # pragma: no cover - the script readers guarantee a connect first
            raise TranscriptError(self.path, action.line, f"session {action.session_id!r} never connected")
        if session.closed:
            return
        if action.kind is ActionKind.SEND:
            session.receive_data(action.data)
        elif action.kind is ActionKind.EOF:
            session.receive_eof()
        elif action.kind is ActionKind.TIMEOUT:
            session.receive_timeout()
        elif action.kind is ActionKind.SHUTDOWN:
            session.shutdown()

    def _result(self, index: int, step: ScriptStep, produced: list[Event]) -> StepResult:
        expected = _split_lines(step.expected_lines())
        actual = _split_lines((e.session_id, e.data) for e in produced if isinstance(e, ServerLine))
        differences: list[Difference] = []
        if expected != actual:
            order = list(dict.fromkeys([step.session_id, *(s for s, _ in expected), *(s for s, _ in actual)]))
            for session_id in order:
                want = tuple(d for s, d in expected if s == session_id)
                got = tuple(d for s, d in actual if s == session_id)
                if want != got:
                    differences.append(Difference(index + 1, step.line, session_id, want, got))
        return StepResult(
            index=index,
            session_id=step.session_id,
            protocol=step.protocol,
            line=step.line,
            timestamp=step.timestamp,
            actions=tuple(a.kind for a in step.actions),
            client=step.client_bytes(),
            expected=expected,
            actual=actual,
            replies=tuple(e for e in produced if isinstance(e, Reply)),
            events=tuple(produced),
            differences=tuple(differences),
        )

    # -- what the views read ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.steps)

    def state_at(self, session_id: str, position: int) -> str:
        """The state of a session after `position` steps ("" before it connected)."""
        steps_list, states = self._states.get(session_id, ([], []))
        found = bisect.bisect_right(steps_list, position - 1) - 1
        return states[found] if found >= 0 else ""

    def sessions_at(self, position: int) -> dict[str, str]:
        """Every session that has connected by `position`, with its state then."""
        found = {s: self.state_at(s, position) for s in self.session_protocols}
        return {s: state for s, state in found.items() if state}

    def session_lines(self, session_id: str, position: int, limit: int = 40) -> list[tuple[str, bytes, bool]]:
        """The last `limit` wire lines of one session up to `position`, oldest first:
        `("C"|"S", line, in the step at position)` — what that session's pane shows."""
        if self._session_steps is None:
            index: dict[str, list[int]] = {}
            for step in self.steps:
                for session in dict.fromkeys([step.session_id, *(s for s, _ in step.actual)]):
                    index.setdefault(session, []).append(step.index)
            self._session_steps = index
        steps_list = self._session_steps.get(session_id, [])
        found = bisect.bisect_left(steps_list, position) - 1
        collected: list[tuple[str, bytes, bool]] = []
        while found >= 0 and len(collected) < limit:
            step = self.steps[steps_list[found]]
            current = step.number == position
            lines: list[tuple[str, bytes, bool]] = []
            if step.session_id == session_id:
                lines += [("C", piece + b"\n", current) for piece in step.client.split(b"\n")[:-1]]
                tail = step.client.rsplit(b"\n", 1)[-1]
                if tail:
                    lines.append(("C", tail, current))
            lines += [("S", data, current) for s, data in step.actual if s == session_id]
            collected[:0] = lines
            found -= 1
        return collected[-limit:]

    def starting_store(self) -> MailStore:
        """A fresh store as it was when the recording began (for judging what changed)."""
        return self._world()[0]

    def mailboxes_at(self, position: int) -> Listing:
        return self.mailboxes.at(position)

    def last_reply(self, session_id: str, position: int) -> Reply | None:
        """The last complete reply a session got by `position`."""
        steps_list = self._reply_steps.get(session_id, [])
        found = bisect.bisect_left(steps_list, position) - 1
        if found < 0:
            return None
        step = self.steps[steps_list[found]]
        return next(r for r in reversed(step.replies) if r.session_id == session_id)


def _split_lines(chunks: Iterable[tuple[str, bytes]]) -> tuple[tuple[str, bytes], ...]:
    """Server output as single lines, however the engine grouped them into events (a
    message body may be one event): recordings compare line by line."""
    lines: list[tuple[str, bytes]] = []
    for session_id, data in chunks:
        if data.count(b"\n") <= 1:
            lines.append((session_id, data))
        else:
            pieces = data.split(b"\n")
            last = pieces.pop()
            lines.extend((session_id, piece + b"\n") for piece in pieces)
            if last:
                lines.append((session_id, last))
    return tuple(lines)


def format_difference(difference: Difference) -> str:
    """`step N (line L) session: expected '…' got '…'`, then both sides in full."""
    want, got = difference.first_mismatch()
    shown = lambda data: "(nothing)" if data is None else repr(data.rstrip(b"\r\n").decode("utf-8", "replace"))
    lines = [
        f"step {difference.step} (line {difference.line}) {difference.session_id}: "
        f"expected {shown(want)} got {shown(got)}"
    ]
    width = max([len(_text(d)) for d in difference.expected] + [8])
    width = min(width, 60)
    lines.append(f"    {'expected':<{width}} | actual")
    for index in range(max(len(difference.expected), len(difference.actual))):
        left = _text(difference.expected[index]) if index < len(difference.expected) else ""
        right = _text(difference.actual[index]) if index < len(difference.actual) else ""
        mark = " " if left == right else "!"
        lines.append(f"  {mark} {left[:width]:<{width}} | {right}")
    return "\n".join(lines)


def _text(data: bytes) -> str:
    from mailsim.transcript.wirelog import printable

    return printable(data)
