"""What a lesson is, once loaded: typed, frozen, bilingual.

The loader (`loader.py`) turns a `lessons/*.toml` file into these objects after
checking everything it can; the runner, the autoplayer, the report and the UI only
ever see them. Expectations and actions are data: the runner matches the former on
events, and hands the latter to the UI.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path

from mailsim.events import Protocol, ReplyClass
from mailsim.store.world import World

LANGUAGES = ("es", "en")
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Text:
    """A text in every language a lesson is written in."""

    es: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.es


class Level(enum.StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Panel(enum.StrEnum):
    """The views an action can bring to the front."""

    CONSOLE = "console"
    TRANSCRIPT = "transcript"
    STATE = "state"
    REPLIES = "replies"
    MAILBOXES = "mailboxes"
    INSPECTOR = "inspector"
    LESSON = "lesson"


# -- expectations: what ticks a step ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandSent:
    """The student sent `verb` (and, if given, arguments matching `argument`)."""

    protocol: Protocol
    verb: str
    argument: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    """The server answered with this code, class and/or reply key, optionally to `answering`."""

    protocol: Protocol
    code: str = ""
    reply_class: ReplyClass | None = None
    key: str = ""
    answering: str = ""


@dataclass(frozen=True, slots=True)
class StateReached:
    protocol: Protocol
    state: str


@dataclass(frozen=True, slots=True)
class MessageDelivered:
    """SMTP delivered a message to `to` (an address, matched case-insensitively)."""

    to: str = ""
    sender: str = ""


@dataclass(frozen=True, slots=True)
class FlagChanged:
    """A message's flags now include (`present`) or lack `flag`."""

    flag: str
    present: bool = True
    account: str = ""
    mailbox: str = ""


@dataclass(frozen=True, slots=True)
class MailboxCreated:
    name: str = ""
    account: str = ""


@dataclass(frozen=True, slots=True)
class MessagesExpunged:
    account: str = ""
    mailbox: str = ""


@dataclass(frozen=True, slots=True)
class DeletionMarked:
    """POP3 DELE marked a message (or RSET unmarked it, `marked = false`)."""

    marked: bool = True


@dataclass(frozen=True, slots=True)
class MessageOpened:
    """The student opened a message in the MIME inspector (optionally a given part)."""

    part: str = ""
    account: str = ""


Expectation = (
    CommandSent
    | ReplyReceived
    | StateReached
    | MessageDelivered
    | FlagChanged
    | MailboxCreated
    | MessagesExpunged
    | DeletionMarked
    | MessageOpened
)


# -- actions: what a step asks the views to do --------------------------------------------


class When(enum.StrEnum):
    START = "start"      # as the step becomes current
    SUCCESS = "success"  # once the step is completed


@dataclass(frozen=True, slots=True)
class OpenSession:
    """Open a console session (a second one, if one of that protocol is open)."""

    protocol: Protocol
    name: str
    when: When = When.START


@dataclass(frozen=True, slots=True)
class CloseSession:
    """Drop a session's connection the way a network failure would: no QUIT, no
    goodbye, the server just sees the connection end (what RFC 1939 §6 is about)."""

    name: str
    when: When = When.START


@dataclass(frozen=True, slots=True)
class InspectMessage:
    """Open a stored message in the MIME inspector and highlight one part.

    `uid` 0 means the newest message of the mailbox."""

    account: str
    mailbox: str = "INBOX"
    uid: int = 0
    part: str = ""
    when: When = When.START


@dataclass(frozen=True, slots=True)
class DeliverMessage:
    """A message arrives "from outside" (not through the student's sessions)."""

    to: str
    raw: bytes
    sender: str = ""
    when: When = When.START


@dataclass(frozen=True, slots=True)
class ShowPanel:
    panel: Panel
    when: When = When.START


Action = OpenSession | CloseSession | InspectMessage | DeliverMessage | ShowPanel


# -- questions ------------------------------------------------------------------------------


class QuestionKind(enum.StrEnum):
    CHOICE = "choice"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Choice:
    text: Text
    correct: bool = False
    feedback: Text | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """Multiple choice (one right choice or more) or a short answer.

    Short answers are compared after folding case, spaces and a final full stop;
    `answers` lists what counts as right in each language, `pattern` (a regex) can
    accept more."""

    kind: QuestionKind
    prompt: Text
    choices: tuple[Choice, ...] = ()
    answers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None
    right: Text | None = None
    wrong: Text | None = None


# -- steps and lessons ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    title: Text
    instructions: Text
    expect: Expectation | None = None
    times: int = 1
    question: Question | None = None
    hints: tuple[Text, ...] = ()
    demo: tuple[str, ...] = ()
    session: str = ""          # the session the demo is typed into ("" = the latest of its protocol)
    explanation: Text | None = None
    actions: tuple[Action, ...] = ()
    line: int = 0              # where the step starts in its file

    @property
    def protocol(self) -> Protocol | None:
        return getattr(self.expect, "protocol", None)

    @property
    def is_reading(self) -> bool:
        """Nothing to do but read: the student moves on when ready."""
        return self.expect is None and self.question is None

    def actions_at(self, when: When) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.when is when)


@dataclass(frozen=True, slots=True)
class Lesson:
    id: str
    title: Text
    summary: Text
    protocols: tuple[Protocol, ...]
    level: Level
    minutes: int
    steps: tuple[Step, ...]
    prerequisites: tuple[str, ...] = ()
    world: World | None = None   # None: the default world
    path: Path | None = None

    def step_index(self, step_id: str) -> int:
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        raise KeyError(step_id)
