"""Runs a lesson: watches the Bus and the store, ticks steps in order, reveals hints,
checks answers, and tells the UI what happened with frozen messages.

Only the current step listens: an event completes at most that step, and the next
step starts listening after it. Client lines that are not commands (a DATA body, an
AUTH response) never count as commands: the runner follows each session's state and
ignores lines sent in states the engine's transition table reserves for data.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence

from mailsim.events import ClientLine, Delivered, Event, Reply, StateChanged
from mailsim.events import DeletionMarked as DeletionMarkedEvent
from mailsim.lesson.facts import facts, split_command
from mailsim.lesson.messages import (
    ActionRequested,
    AnswerChecked,
    HintShown,
    InspectorOpened,
    LessonFinished,
    RunnerMessage,
    StepCompleted,
    StepProgressed,
    StepStarted,
)
from mailsim.lesson.model import (
    CommandSent,
    DeletionMarked,
    Expectation,
    FlagChanged,
    Lesson,
    MailboxCreated,
    MessageDelivered,
    MessageOpened,
    MessagesExpunged,
    OpenSession,
    QuestionKind,
    ReplyReceived,
    StateReached,
    Step,
    Text,
    When,
)
from mailsim.lesson.progress import AnswerRecord, LessonProgress, ProgressStore
from mailsim.store import changes
from mailsim.transcript.bus import Bus

Listener = Callable[[RunnerMessage], None]


def matches(expect: Expectation, item: object, session_states: dict[str, str] | None = None) -> bool:
    """Whether one event (Bus event, store change or UI event) fulfils `expect`."""
    if isinstance(expect, CommandSent):
        if not isinstance(item, ClientLine) or item.protocol is not expect.protocol:
            return False
        known = facts(item.protocol)
        state = (session_states or {}).get(item.session_id, "")
        if known is not None and state in known.command_free_states:
            return False
        parsed = split_command(item.protocol, item.data)
        if parsed is None or parsed[0] != expect.verb:
            return False
        return expect.argument is None or expect.argument.search(parsed[1].strip()) is not None
    if isinstance(expect, ReplyReceived):
        return (
            isinstance(item, Reply)
            and item.protocol is expect.protocol
            and (not expect.code or item.code.upper() == expect.code)
            and (expect.reply_class is None or item.reply_class.satisfies(expect.reply_class))
            and (not expect.key or item.key == expect.key)
            and (not expect.answering or item.command.upper() == expect.answering)
        )
    if isinstance(expect, StateReached):
        return isinstance(item, StateChanged) and item.protocol is expect.protocol and item.new == expect.state
    if isinstance(expect, MessageDelivered):
        return (
            isinstance(item, Delivered)
            and (not expect.to or item.recipient.lower() == expect.to.lower())
            and (not expect.sender or item.sender.lower() == expect.sender.lower())
        )
    if isinstance(expect, FlagChanged):
        return (
            isinstance(item, changes.FlagsChanged)
            and _same(expect.account, item.account)
            and _same(expect.mailbox, item.mailbox)
            and any(flag.lower() == expect.flag.lower() for flag in item.flags) == expect.present
        )
    if isinstance(expect, MailboxCreated):
        return isinstance(item, changes.MailboxCreated) and _same(expect.name, item.mailbox) and _same(expect.account, item.account)
    if isinstance(expect, MessagesExpunged):
        return (
            isinstance(item, changes.MessagesExpunged)
            and _same(expect.account, item.account)
            and _same(expect.mailbox, item.mailbox)
        )
    if isinstance(expect, DeletionMarked):
        return isinstance(item, DeletionMarkedEvent) and item.marked == expect.marked
    if isinstance(expect, MessageOpened):
        return (
            isinstance(item, InspectorOpened)
            and (not expect.part or item.part.upper() == expect.part)
            and _same(expect.account, item.account)
        )
    return False


def _same(wanted: str, actual: str) -> bool:
    return not wanted or wanted.lower() == actual.lower()


def normalize_answer(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip().rstrip(".").strip()


class LessonRunner:
    """One student working through one lesson.

    `listener` receives every RunnerMessage; `attach(bus, store)` starts watching.
    With a `progress` store the runner resumes where the student left off and saves
    after every change."""

    def __init__(
        self,
        lesson: Lesson,
        *,
        listener: Listener | None = None,
        progress: ProgressStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lesson = lesson
        self.listener = listener
        self.progress_store = progress
        self.clock = clock
        self.progress = LessonProgress(lesson.id)
        self.transcript: list[Event] = []
        self._count = 0
        self._session_states: dict[str, str] = {}
        self._outbox: list[RunnerMessage] = []
        self._flushing = False
        self._detach: list[Callable[[], None]] = []
        self._started = False

    # -- wiring ------------------------------------------------------------------------------

    def attach(self, bus: Bus | None = None, store: object | None = None) -> None:
        """Listen to a Bus and (optionally) a MailStore's change observers."""
        if bus is not None:
            self._detach.append(bus.subscribe(self.feed))
        subscribe = getattr(store, "subscribe", None)
        if subscribe is not None:
            self._detach.append(subscribe(self.feed))

    def detach(self) -> None:
        for undo in self._detach:
            undo()
        self._detach.clear()

    # -- state -------------------------------------------------------------------------------

    @property
    def index(self) -> int:
        return self.progress.step_index

    @property
    def finished(self) -> bool:
        return self.progress.finished

    @property
    def step(self) -> Step | None:
        return None if self.finished else self.lesson.steps[self.index]

    def is_done(self, step: Step) -> bool:
        return step.id in self.progress.completed

    def hints_shown(self, step: Step) -> int:
        return self.progress.hints.get(step.id, 0)

    # -- flow --------------------------------------------------------------------------------

    def start(self, *, resume: bool = True) -> None:
        """Begin (or resume from saved progress) and announce the current step."""
        if self._started:
            return
        self._started = True
        saved = self.progress_store.load(self.lesson.id) if (resume and self.progress_store) else None
        if saved is not None and self._fits(saved):
            self.progress = saved
            self.transcript = _events_from_records(saved.transcript)
            if not self.finished:
                # The sessions opened earlier are gone: open them again for the student.
                for earlier in self.lesson.steps[: self.index]:
                    for action in earlier.actions:
                        if isinstance(action, OpenSession):
                            self._emit(ActionRequested(self.index, action))
                self._begin_step(resumed=True)
        else:
            self.progress = LessonProgress(self.lesson.id, started_at=self.clock())
            self._begin_step()
        self._save()
        self._flush()

    def _fits(self, saved: LessonProgress) -> bool:
        ids = {s.id for s in self.lesson.steps}
        return 0 <= saved.step_index <= len(self.lesson.steps) and set(saved.completed) <= ids

    def reset(self) -> None:
        """Forget all progress of this lesson and start again from the first step."""
        if self.progress_store is not None:
            self.progress_store.reset(self.lesson.id)
        self.transcript = []
        self._count = 0
        self._started = False
        self.start(resume=False)

    def feed(self, item: object) -> None:
        """One Bus event, store change or UI event (InspectorOpened)."""
        if isinstance(item, Event):
            self.transcript.append(item)
            if isinstance(item, StateChanged):
                self._session_states[item.session_id] = item.new
        step = self.step
        if step is not None and self._started and step.expect is not None and matches(step.expect, item, self._session_states):
            self._count += 1
            if self._count >= step.times:
                self._complete()
            else:
                self._emit(StepProgressed(self.index, self._count, step.times))
        self._flush()

    def advance(self) -> bool:
        """Move past a reading step (one with nothing to do or answer)."""
        step = self.step
        if step is None or not step.is_reading:
            return False
        self._complete()
        self._flush()
        return True

    def next_hint(self) -> Text | None:
        """Reveal the next hint of the current step (None when there is none left)."""
        step = self.step
        if step is None:
            return None
        shown = self.hints_shown(step)
        if shown >= len(step.hints):
            return None
        self.progress.hints[step.id] = shown + 1
        self._emit(HintShown(self.index, shown + 1, len(step.hints), step.hints[shown]))
        self._save()
        self._flush()
        return step.hints[shown]

    def demo(self) -> tuple[str, ...]:
        step = self.step
        return step.demo if step is not None else ()

    def answer(self, value: str | int | Sequence[int], lang: str = "es") -> AnswerChecked:
        """Check an answer to the current step's question.

        Choice questions take a choice index (0-based) or several; text questions a string."""
        step = self.step
        if step is None or step.question is None:
            raise ValueError("the current step asks no question")
        question = step.question
        feedback: Text | None
        if question.kind is QuestionKind.CHOICE:
            chosen = {value} if isinstance(value, int) else set(int(v) for v in value)
            right = {i for i, c in enumerate(question.choices) if c.correct}
            correct = chosen == right
            single = question.choices[next(iter(chosen))] if len(chosen) == 1 and next(iter(chosen)) < len(question.choices) else None
            feedback = (single.feedback if single is not None else None) or (question.right if correct else question.wrong)
            shown = ", ".join(question.choices[i].text.get(lang) for i in sorted(chosen) if 0 <= i < len(question.choices))
        else:
            shown = str(value)
            given = normalize_answer(shown)
            accepted = {normalize_answer(a) for answers in question.answers.values() for a in answers}
            correct = given in accepted or bool(question.pattern and question.pattern.fullmatch(shown.strip()))
            feedback = question.right if correct else question.wrong
        self.progress.answers.setdefault(step.id, []).append(AnswerRecord(shown, correct, self.clock()))
        result = AnswerChecked(self.index, correct, shown, feedback)
        self._emit(result)
        if correct:
            self._complete()
        else:
            self._save()
        self._flush()
        return result

    # -- internals ---------------------------------------------------------------------------

    def _begin_step(self, resumed: bool = False) -> None:
        self._count = 0
        step = self.lesson.steps[self.index]
        self._emit(StepStarted(self.index, step, resumed))
        for action in step.actions_at(When.START):
            self._emit(ActionRequested(self.index, action))

    def _complete(self) -> None:
        step = self.lesson.steps[self.index]
        self.progress.completed[step.id] = self.clock()
        self._emit(StepCompleted(self.index, step))
        for action in step.actions_at(When.SUCCESS):
            self._emit(ActionRequested(self.index, action))
        self.progress.step_index += 1
        if self.progress.step_index >= len(self.lesson.steps):
            self.progress.finished_at = self.clock()
            self._emit(LessonFinished(self.lesson.id, len(self.lesson.steps), sum(self.progress.hints.values())))
        else:
            self._begin_step()
        self._save()

    def _save(self) -> None:
        if self.progress_store is None:
            return
        self.progress.transcript = [e.to_record() for e in self.transcript]
        self.progress_store.save(self.progress)

    def _emit(self, message: RunnerMessage) -> None:
        self._outbox.append(message)

    def _flush(self) -> None:
        """Hand queued messages to the listener; a listener that feeds the runner again
        (opening a session publishes its greeting) only queues more, drained here."""
        if self._flushing:
            return
        self._flushing = True
        try:
            while self._outbox:
                message = self._outbox.pop(0)
                if self.listener is not None:
                    self.listener(message)
        finally:
            self._flushing = False


def _events_from_records(records: Iterable[dict]) -> list[Event]:
    from mailsim.events import RecordError, event_from_record

    events = []
    for record in records:
        try:
            events.append(event_from_record(record))
        except RecordError:
            continue
    return events
