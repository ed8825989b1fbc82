"""What the lesson runner tells the UI, and the one thing the UI tells the runner that
is not on the Bus (a message opened in the MIME inspector).

All frozen: the UI can keep them, queue them, compare them. Texts are bilingual
(`Text`); the UI picks the language.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailsim.lesson.model import Action, Step, Text


@dataclass(frozen=True, slots=True)
class InspectorOpened:
    """Published by the UI when the student opens a message (and maybe a part) in the
    MIME inspector; fed to `LessonRunner.feed`. `part` is the IMAP section ("" = the
    whole message)."""

    account: str
    mailbox: str
    uid: int
    part: str = ""


@dataclass(frozen=True, slots=True)
class StepStarted:
    index: int
    step: Step
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class StepProgressed:
    """An expectation with `times > 1` matched once more."""

    index: int
    count: int
    needed: int


@dataclass(frozen=True, slots=True)
class StepCompleted:
    index: int
    step: Step

    @property
    def explanation(self) -> Text | None:
        return self.step.explanation


@dataclass(frozen=True, slots=True)
class HintShown:
    index: int
    number: int      # 1 for the first hint
    total: int
    text: Text


@dataclass(frozen=True, slots=True)
class AnswerChecked:
    index: int
    correct: bool
    answer: str
    feedback: Text | None = None


@dataclass(frozen=True, slots=True)
class ActionRequested:
    """Do this in the views (open a session, inspect a message, deliver one, show a panel)."""

    index: int
    action: Action


@dataclass(frozen=True, slots=True)
class LessonFinished:
    lesson_id: str
    steps: int
    hints_used: int


RunnerMessage = StepStarted | StepProgressed | StepCompleted | HintShown | AnswerChecked | ActionRequested | LessonFinished
