"""What the lesson panel shows, computed from the runner's state (no Textual here).

The panel is a view of the runner: the steps with their ticks, the current step's
text with the hints revealed so far, the explanation of the step just done, the
question and the feedback on the last answer, or the end of the lesson. Rebuilding
it from the runner, rather than from the messages one by one, keeps a resumed
lesson and a change of language right for free.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mailsim.lesson.messages import AnswerChecked
from mailsim.lesson.model import MessageOpened, QuestionKind, Step
from mailsim.lesson.runner import LessonRunner
from mailsim.ui.strings import Strings


class Mark(enum.StrEnum):
    DONE = "done"
    CURRENT = "current"
    PENDING = "pending"


GLYPHS = {Mark.DONE: "✔", Mark.CURRENT: "▶", Mark.PENDING: "·"}


@dataclass(frozen=True)
class StepLine:
    number: int
    title: str
    mark: Mark


@dataclass(frozen=True)
class QuestionView:
    kind: QuestionKind
    choices: tuple[str, ...] = ()
    several: bool = False   # more than one right choice: pick exactly those


@dataclass(frozen=True)
class Feedback:
    correct: bool
    text: str


@dataclass(frozen=True)
class PanelView:
    title: str
    position: str                     # "3/9"
    steps: tuple[StepLine, ...]
    text: str                         # Markdown: the step (or the end), its question, the hints
    after: str = ""                   # Markdown: what the step just done taught
    question: QuestionView | None = None
    feedback: Feedback | None = None
    reading: bool = False             # nothing to do but press continue
    finished: bool = False
    keys: tuple[tuple[str, str], ...] = field(default=())


@dataclass
class PanelState:
    """What the panel remembers between runner messages."""

    just_done: int | None = None       # index of the step completed last (its explanation shows)
    answer: AnswerChecked | None = None
    progress: tuple[int, int] | None = None
    report: tuple[str, str] | None = None   # (markdown path, html path)
    report_error: str = ""
    elapsed: float = 0.0


def step_lines(runner: LessonRunner, lang: str) -> tuple[StepLine, ...]:
    lines = []
    for number, step in enumerate(runner.lesson.steps, 1):
        if runner.is_done(step):
            mark = Mark.DONE
        elif not runner.finished and number - 1 == runner.index:
            mark = Mark.CURRENT
        else:
            mark = Mark.PENDING
        lines.append(StepLine(number, step.title.get(lang), mark))
    return tuple(lines)


DIAGRAM = "diagram"   # the fence language of a drawing: it keeps its lines, never wraps


def _is_drawing(lines: list[str]) -> bool:
    return any(0x2190 <= ord(c) <= 0x21FF or 0x2500 <= ord(c) <= 0x25FF for line in lines for c in line)


def fenced(markdown: str) -> str:
    """Indented code blocks as plain-text fences: what the student types is shown as
    typed, not coloured by a guessed language. A drawing (arrows, box lines) is
    marked as one, so the panel does not wrap it."""
    out: list[str] = []
    block: list[str] = []
    previous_blank = True
    for line in markdown.splitlines():
        if line.startswith("    ") and (block or previous_blank):
            block.append(line[4:])
            continue
        if block and not line.strip():
            block.append("")
            continue
        if block:
            while block and not block[-1]:
                block.pop()
            out += ["```" + (DIAGRAM if _is_drawing(block) else "text"), *block, "```", ""]
            block = []
        out.append(line)
        previous_blank = not line.strip()
    if block:
        while block and not block[-1]:
            block.pop()
        out += ["```" + (DIAGRAM if _is_drawing(block) else "text"), *block, "```"]
    return "\n".join(out)


def drawing_width(markdown: str) -> int:
    """The widest line of the drawings in `markdown` (0 without one): the panel widens
    to show a drawing whole when the terminal has the room."""
    widest, inside = 0, False
    for line in markdown.splitlines():
        line = line[2:] if line.startswith("> ") else line.lstrip(">")
        if line.startswith("```"):
            inside = not inside and line[3:].strip() == DIAGRAM
            continue
        if inside:
            widest = max(widest, len(line.rstrip()))
    return widest


def _quote(markdown: str) -> str:
    return "\n".join("> " + line if line else ">" for line in markdown.strip().splitlines())


def _done_block(step: Step, lang: str, t: Strings, said: str = "") -> str:
    parts = [f"**✔ {t('lessons.panel.done', title=step.title.get(lang))}**"]
    if said:
        parts.append(said)
    if step.explanation is not None:
        parts.append(fenced(step.explanation.get(lang).strip()))
    return _quote("\n\n".join(parts))


def _step_block(runner: LessonRunner, step: Step, lang: str, t: Strings, state: PanelState) -> str:
    number, total = runner.index + 1, len(runner.lesson.steps)
    parts = [f"## {t('lessons.panel.step', number=number, total=total)} · {step.title.get(lang)}",
             fenced(step.instructions.get(lang).strip())]
    if step.question is not None:
        parts.append(f"**{step.question.prompt.get(lang).strip()}**")
    if state.progress is not None and state.progress[0] < state.progress[1]:
        parts.append("*" + t("lessons.panel.progress", count=state.progress[0], needed=state.progress[1]) + "*")
    shown = runner.hints_shown(step)
    for index, hint in enumerate(step.hints[:shown], 1):
        label = t("lessons.panel.hint", number=index, total=len(step.hints))
        parts.append(_quote(f"**{label}** {hint.get(lang).strip()}"))
    return "\n\n".join(parts)


def _end_block(runner: LessonRunner, lang: str, t: Strings, state: PanelState) -> str:
    progress = runner.progress
    steps = runner.lesson.steps
    hints = sum(progress.hints.values())
    questions = [s for s in steps if s.question is not None]
    first_try = sum(1 for s in questions if progress.answers.get(s.id) and progress.answers[s.id][0].correct)
    minutes = max(0, round((progress.finished_at - progress.started_at) / 60)) if progress.started_at else 0
    parts = [
        f"## {t('lessons.end.title')}",
        t("lessons.end.lead", title=runner.lesson.title.get(lang)),
        "  \n".join([
            "✔ " + t("lessons.end.steps", done=len(progress.completed), total=len(steps)),
            "· " + t("lessons.end.hints", count=hints),
            "· " + t("lessons.end.questions", right=first_try, total=len(questions)),
            "· " + t("lessons.end.minutes", minutes=minutes),
        ]),
    ]
    if state.report is not None:
        parts.append(f"**{t('lessons.end.report')}**")
        parts.append(f"- `{state.report[0]}`\n- `{state.report[1]}`")
    elif state.report_error:
        parts.append(t("lessons.end.report-failed", error=state.report_error))
    parts.append(t("lessons.end.next"))
    return "\n\n".join(parts)


def panel_view(runner: LessonRunner, lang: str, t: Strings, state: PanelState) -> PanelView:
    """Everything the panel shows now."""
    lesson = runner.lesson
    total = len(lesson.steps)
    title = lesson.title.get(lang)
    steps = step_lines(runner, lang)
    done = ""
    if state.just_done is not None and 0 <= state.just_done < total:
        answer = state.answer
        said = right_feedback(answer, lang, t) if answer and answer.correct and answer.index == state.just_done else ""
        done = _done_block(lesson.steps[state.just_done], lang, t, said)
    if runner.finished:
        # The end first, then what the last step taught.
        return PanelView(title, f"{total}/{total}", steps, _end_block(runner, lang, t, state), after=done,
                         finished=True)
    step = runner.step
    assert step is not None
    # What to do now first; below it (and below the answer), what the step just done taught.
    text = _step_block(runner, step, lang, t, state)
    question = None
    if step.question is not None:
        q = step.question
        question = QuestionView(
            q.kind,
            tuple(c.text.get(lang) for c in q.choices),
            several=sum(1 for c in q.choices if c.correct) > 1,
        )
    feedback = None
    answer = state.answer
    if answer is not None and answer.index == runner.index and not answer.correct:
        default = t("lessons.panel.wrong")
        feedback = Feedback(False, answer.feedback.get(lang).strip() if answer.feedback else default)
    keys = []
    if step.hints and runner.hints_shown(step) < len(step.hints):
        keys.append(("lessons.keys.hint-key", "lessons.keys.hint"))
    if step.demo:
        keys.append(("lessons.keys.demo-key", "lessons.keys.demo"))
    elif isinstance(step.expect, MessageOpened):
        keys.append(("lessons.keys.demo-key", "lessons.keys.inspect"))
    if step.is_reading:
        keys.append(("lessons.keys.continue-key", "lessons.keys.continue"))
    if question is not None and question.several:
        keys.append(("lessons.keys.continue-key", "lessons.keys.check"))
    elif question is not None and question.kind is QuestionKind.CHOICE:
        keys.append(("lessons.keys.choose-key", "lessons.keys.choose"))
    return PanelView(title, f"{runner.index + 1}/{total}", steps, text, after=done, question=question,
                     feedback=feedback, reading=step.is_reading, keys=tuple(keys))


def right_feedback(answer: AnswerChecked, lang: str, t: Strings) -> str:
    """What a right answer is told (shown with the explanation of the step)."""
    return answer.feedback.get(lang).strip() if answer.feedback else t("lessons.panel.right")
