"""A headless student: plays a lesson end to end through in-process engine sessions.

It does what the lesson's own data says a student can do — types each step's demo
lines into the session the step names, answers each question with a right answer,
opens the inspector where a step asks for it — and fails loudly, naming the step and
the last lines on the wire, if any step does not complete. Every shipped lesson is
played this way in both languages by the test suite, so lessons cannot rot when the
engines change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import ClientLine, Event, Protocol, ServerLine
from mailsim.lesson.actions import deliver_from_outside, message_to_inspect
from mailsim.lesson.messages import ActionRequested, InspectorOpened, RunnerMessage
from mailsim.lesson.model import (
    CloseSession,
    DeliverMessage,
    InspectMessage,
    Lesson,
    MessageOpened,
    OpenSession,
    QuestionKind,
    Step,
)
from mailsim.lesson.runner import LessonRunner
from mailsim.protocol.base import Session, SessionConfig, TlsParams
from mailsim.protocol.registry import ENGINES
from mailsim.protocol.relay import QueueRunner
from mailsim.store.store import MailStore
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus


class AutoplayError(AssertionError):
    """A step the demo lines and right answers could not complete."""


def missing_engines(lesson: Lesson) -> list[Protocol]:
    """The lesson's protocols that have no engine yet (such a lesson cannot be played)."""
    return [p for p in lesson.protocols if p not in ENGINES]


@dataclass
class Autoplay:
    lesson: Lesson
    lang: str = "es"
    store: MailStore = field(init=False)
    bus: Bus = field(init=False)
    runner: LessonRunner = field(init=False)
    messages: list[RunnerMessage] = field(default_factory=list)
    sessions: dict[str, Session] = field(default_factory=dict)   # by name, in opening order
    inspected: list[InspectMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        clock = FixedClock(1_790_000_000.0, step=0.001)
        self.store = build_store(self.lesson.world, clock=clock, ids=SequentialIds("Q"))
        self.bus = Bus()
        self.runner = LessonRunner(self.lesson, listener=self._heard, clock=clock.now)
        self.runner.attach(self.bus, self.store)
        self.relay = QueueRunner(self.store, self.bus.publish)  # what the app's queue timer does
        self._opened = 0

    # -- what the UI would do with the runner's messages ---------------------------------

    def _heard(self, message: RunnerMessage) -> None:
        self.messages.append(message)
        if not isinstance(message, ActionRequested):
            return
        action = message.action
        if isinstance(action, OpenSession):
            self._open(action)
        elif isinstance(action, CloseSession):
            session = self.sessions.get(action.name)
            if session is None:
                raise AutoplayError(f"{self._where()}: no session named {action.name!r} to close")
            session.receive_eof()
            self._pump(session)
        elif isinstance(action, DeliverMessage):
            self.bus.publish(deliver_from_outside(self.store, action))
        elif isinstance(action, InspectMessage):
            if message_to_inspect(self.store, action) is None:
                raise AutoplayError(f"{self._where()}: nothing to inspect in {action.account}/{action.mailbox} uid {action.uid}")
            self.inspected.append(action)

    def _open(self, action: OpenSession) -> None:
        engine = ENGINES[action.protocol]
        self._opened += 1
        # As the console: STARTTLS/STLS offered (the console can always encrypt).
        config = SessionConfig(hostname=self.store.domain, tls_offered=True)
        session = engine(self.store, session_id=f"{action.name}-{self._opened}", peer="console", config=config)
        self.sessions.pop(action.name, None)
        self.sessions[action.name] = session
        session.start()
        self._pump(session)

    def _pump(self, session: Session) -> None:
        session.data_to_send()
        if session.tls_requested and not session.closed:
            # No wire here: the upgrade is taken as done, as a replay does.
            session.tls_started(TlsParams(version="(headless)", simulated=True))
        self.bus.publish_all(session.events())
        self.relay.run_due()  # mail queued for another domain leaves at once, as in the app

    def _fast_forward(self) -> bool:
        """The queue screen's fast-forward: run the next retry now. False if none waits."""
        due = self.store.queue.next_due()
        if due is None:
            return False
        self.store.clock.advance(max(due - self.store.clock.now(), 0.0))  # type: ignore[attr-defined]
        self.relay.run_due()
        return True

    # -- playing -----------------------------------------------------------------------------

    def play(self) -> "Autoplay":
        self.runner.start(resume=False)
        guard = 0
        while not self.runner.finished:
            guard += 1
            if guard > 10 * len(self.lesson.steps) + 10:
                raise AutoplayError(f"{self._where()}: the lesson does not advance")
            step = self.runner.step
            assert step is not None
            before = self.runner.index
            self._do(step)
            if self.runner.index == before and not self.runner.finished:
                raise AutoplayError(f"{self._where()}: step {step.id!r} did not complete.\nLast lines:\n{self._tail()}")
        return self

    def _do(self, step: Step) -> None:
        if step.is_reading:
            self.runner.advance()
            return
        if step.question is not None:
            question = step.question
            if question.kind is QuestionKind.CHOICE:
                right = [i for i, c in enumerate(question.choices) if c.correct]
                result = self.runner.answer(right[0] if len(right) == 1 else right, self.lang)
            else:
                answers = question.answers.get(self.lang) or next(iter(question.answers.values()), ())
                if not answers:
                    raise AutoplayError(f"{self._where()}: question of step {step.id!r} lists no answer")
                result = self.runner.answer(answers[0], self.lang)
            if not result.correct:
                raise AutoplayError(f"{self._where()}: the right answer to {step.id!r} was judged wrong")
            return
        if isinstance(step.expect, MessageOpened):
            target = self.inspected[-1] if self.inspected else None
            account = step.expect.account or (target.account if target else "")
            self.runner.feed(InspectorOpened(account, target.mailbox if target else "INBOX", target.uid if target else 0, step.expect.part))
            return
        if not step.demo:
            if self._fast_forward():  # a step waiting for the queue's next retry
                return
            raise AutoplayError(f"{self._where()}: step {step.id!r} has neither a demo nor a question")
        session = self._session_for(step)
        for line in step.demo:
            session.receive_data(line.encode("utf-8") + b"\r\n")
            self._pump(session)

    def _session_for(self, step: Step) -> Session:
        if step.session:
            if step.session not in self.sessions:
                raise AutoplayError(f"{self._where()}: no session named {step.session!r} is open")
            return self.sessions[step.session]
        protocol = step.protocol or (self.lesson.protocols[0] if len(self.lesson.protocols) == 1 else None)
        for session in reversed(list(self.sessions.values())):
            if session.protocol is protocol and not session.closed:
                return session
        raise AutoplayError(f"{self._where()}: no open {protocol} session to type the demo of {step.id!r} into")

    def _where(self) -> str:
        return f"{self.lesson.path or self.lesson.id} [{self.lang}]"

    def _tail(self, count: int = 12) -> str:
        lines = []
        for event in self.runner.transcript:
            if isinstance(event, (ClientLine, ServerLine)):
                prefix = "C: " if isinstance(event, ClientLine) else "S: "
                lines.append(prefix + event.data.decode("utf-8", "replace").rstrip("\r\n"))
        return "\n".join(lines[-count:])

    @property
    def transcript(self) -> list[Event]:
        return self.runner.transcript


def autoplay(lesson: Lesson, lang: str = "es") -> Autoplay:
    """Play `lesson` to the end; raises AutoplayError naming the step that failed."""
    return Autoplay(lesson, lang).play()
