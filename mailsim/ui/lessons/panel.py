"""The lesson panel beside the console: the steps with their ticks, the current step
as Markdown (with the hints revealed so far and the explanation of the step just
done), the question with its choices or answer box, and the end of the lesson.

It renders a `PanelView` and posts what the student does (an answer, continue) as
messages; the lesson screen talks to the runner.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Markdown, OptionList, SelectionList, Static
from textual.widgets.markdown import MarkdownFence
from textual.widgets.option_list import Option

from mailsim.lesson.model import QuestionKind
from mailsim.ui.lessons.choices import ChoiceList
from mailsim.ui.lessons.view import DIAGRAM, GLYPHS, Mark, PanelView
from mailsim.ui.strings import Strings


class LessonPanel(Vertical):
    class Answered(Message):
        """The student answered the current question (choice indexes or a text)."""

        def __init__(self, value: int | list[int] | str) -> None:
            super().__init__()
            self.value = value

    class Continued(Message):
        """The student is done reading the current step."""

    def __init__(self, strings: Strings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strings = strings
        self.view: PanelView | None = None
        self._question_key: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="lesson-steps")
        with VerticalScroll(id="lesson-body"):
            yield Markdown(id="lesson-text", open_links=False)
            yield ChoiceList(id="lesson-choices")
            yield SelectionList[int](id="lesson-several")
            yield Input(id="lesson-answer")
            yield Static(id="lesson-feedback")
            yield Button(id="lesson-continue", variant="primary")
            yield Markdown(id="lesson-after", open_links=False)
        yield Static(id="lesson-keys")

    def on_mount(self) -> None:
        self.answer_input.cursor_blink = bool(getattr(self.app, "cursor_blink", True))

    # -- typed accessors ------------------------------------------------------------------

    @property
    def text(self) -> Markdown:
        return self.query_one("#lesson-text", Markdown)

    @property
    def choices(self) -> ChoiceList:
        return self.query_one("#lesson-choices", ChoiceList)

    @property
    def several(self) -> SelectionList[int]:
        return self.query_one("#lesson-several", SelectionList)

    @property
    def answer_input(self) -> Input:
        return self.query_one("#lesson-answer", Input)

    @property
    def continue_button(self) -> Button:
        return self.query_one("#lesson-continue", Button)

    @property
    def body(self) -> VerticalScroll:
        return self.query_one("#lesson-body", VerticalScroll)

    # -- rendering ------------------------------------------------------------------------

    async def show(self, view: PanelView, *, scroll_home: bool = True) -> None:
        t = self.strings
        self.view = view
        self.border_title = view.title
        self.border_subtitle = t("lessons.panel.position", position=view.position)
        self.query_one("#lesson-steps", Static).update(self._steps_text(view))
        await self.text.update(view.text)
        after = self.query_one("#lesson-after", Markdown)
        after.display = bool(view.after)
        await after.update(view.after)
        for fence in self.query(MarkdownFence).results(MarkdownFence):
            fence.set_class(fence.lexer == DIAGRAM, "-drawing")
        question = view.question
        key = (view.position, question) if question is not None else None
        choice = question is not None and question.kind is QuestionKind.CHOICE
        self.choices.display = choice and not question.several
        self.several.display = choice and question.several
        self.answer_input.display = question is not None and question.kind is QuestionKind.TEXT
        if key != self._question_key:  # a new question: fresh options, empty answer box
            self._question_key = key
            self.choices.clear_options()
            self.several.clear_options()
            self.answer_input.value = ""
            if question is not None and choice:
                letters = "abcdefghijklmnopqrstuvwxyz"
                if question.several:
                    self.several.add_options([(f"{letters[i]}) {c}", i) for i, c in enumerate(question.choices)])
                else:
                    # Numbered: the number is the key that picks it (ui/lessons/choices.py).
                    self.choices.add_options([Option(f"{i + 1}) {c}", id=f"choice-{i}")
                                              for i, c in enumerate(question.choices)])
                    self.choices.highlighted = 0
        self.answer_input.placeholder = t("lessons.panel.answer-placeholder")
        feedback = self.query_one("#lesson-feedback", Static)
        feedback.display = view.feedback is not None
        if view.feedback is not None:
            feedback.update(Text("✘ " + view.feedback.text))
        button = self.continue_button
        button.display = view.reading or (question is not None and question.several)
        button.label = t("lessons.panel.check") if (question is not None and question.several) else t("lessons.panel.continue")
        keys = self.query_one("#lesson-keys", Static)
        keys.display = bool(view.keys)
        keys.update(self._keys_text(view))
        self.set_class(view.finished, "-finished")
        if scroll_home:
            self.body.scroll_home(animate=False)

    def _steps_text(self, view: PanelView) -> Text:
        text = Text(no_wrap=False, overflow="fold")
        steps = view.steps
        if self.has_class("-short"):
            # A short terminal: the step before, the current one and the next (three
            # rows, each cut with "…" if long) instead of the whole list.
            at = next((i for i, s in enumerate(steps) if s.mark is Mark.CURRENT), len(steps) - 1)
            start = max(0, min(at - 1, len(steps) - 3))
            steps = steps[start:start + 3]
            text.no_wrap, text.overflow = True, "ellipsis"
        for index, line in enumerate(steps):
            if index:
                text.append("\n")
            style = "bold" if line.mark is Mark.CURRENT else ("dim" if line.mark is Mark.PENDING else "")
            text.append(f"{GLYPHS[line.mark]} ", _MARK_STYLE[line.mark])
            text.append(f"{line.number}. {line.title}", style)
        return text

    def _keys_text(self, view: PanelView) -> Text:
        t = self.strings
        text = Text(no_wrap=False, overflow="fold")
        for index, (key, label) in enumerate(view.keys):
            if index:
                text.append("  ")
            text.append(t(key), "bold reverse")
            text.append(" " + t(label))
        return text

    def focus_question(self) -> bool:
        """Give the keyboard to the question's widget (or continue); False if none."""
        view = self.view
        if view is None:
            return False
        # Without scrolling to it: the step's text above it stays in view.
        for widget in (self.choices, self.several, self.answer_input):
            if widget.display:
                widget.focus(scroll_visible=False)
                return True
        if view.reading:
            self.continue_button.focus(scroll_visible=False)
            return True
        return False

    # -- what the student does --------------------------------------------------------------

    @on(OptionList.OptionSelected, "#lesson-choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Answered(event.option_index))

    @on(Input.Submitted, "#lesson-answer")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.Answered(event.value))

    @on(Button.Pressed, "#lesson-continue")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        view = self.view
        if view is not None and view.question is not None and view.question.several:
            self.post_message(self.Answered(list(self.several.selected)))
        else:
            self.post_message(self.Continued())


_MARK_STYLE = {Mark.DONE: "bold green", Mark.CURRENT: "bold yellow", Mark.PENDING: "dim"}
