"""One session's console: the transcript, what can be typed now, and the input line.

A read-only session (a real TCP client) has no input; a session to a server that is
not built yet says so and has nothing else.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static, TabbedContent

from mailsim.protocol.explain import Explainer
from mailsim.ui import machine
from mailsim.ui.model import SessionModel
from mailsim.ui.strings import Strings
from mailsim.ui.widgets.command_input import CommandInput
from mailsim.ui.widgets.transcript import Describe, TranscriptView


class SessionPane(Vertical):
    class LineEntered(Message):
        """The student pressed Enter on a line for this session."""

        def __init__(self, pane: "SessionPane", line: str) -> None:
            super().__init__()
            self.pane, self.line = pane, line

    class Focused(Message):
        def __init__(self, pane: "SessionPane") -> None:
            super().__init__()
            self.pane = pane

    def __init__(self, model: SessionModel, describe: Describe, strings: Strings, explainer: Explainer,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self._describe = describe
        self.strings = strings
        self.explainer = explainer
        self._hint_shown: Text | None = None
        self._pasted: list[str] = []  # pasted lines still to send, one per turn of the session

    def compose(self) -> ComposeResult:
        if not self.model.available:
            yield Static(id="not-built", classes="banner")
            return
        yield TranscriptView(self.model, self._describe, id="transcript")
        if self.model.read_only:
            yield Static(id="read-only", classes="banner")
            return
        yield Static(id="hint")
        command = CommandInput(self.model.history, self._commands_now, id="command", select_on_focus=False)
        command.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
        yield command

    def _commands_now(self) -> list:
        return machine.commands_now(self.model.engine, self.model.state)

    # -- typed accessors ------------------------------------------------------------------

    @property
    def transcript(self) -> TranscriptView | None:
        found = self.query("#transcript")
        return found.first(TranscriptView) if found else None

    @property
    def command_input(self) -> CommandInput | None:
        found = self.query("#command")
        return found.first(CommandInput) if found else None

    @property
    def hint(self) -> Static | None:
        found = self.query("#hint")
        return found.first(Static) if found else None

    # -- updates --------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.refresh_view()

    def set_language(self, strings: Strings, explainer: Explainer) -> None:
        self.strings, self.explainer = strings, explainer
        self._hint_shown = None
        transcript = self.transcript
        if transcript is not None:
            transcript.redraw()
        self.refresh_view()

    def refresh_view(self) -> None:
        """Bring the pane up to date with its model (called after new events)."""
        t, model = self.strings, self.model
        protocol = model.protocol.value.upper()
        for banner in self.query("#not-built").results(Static):
            banner.update(t("session.not-built", protocol=protocol))
        for banner in self.query("#read-only").results(Static):
            banner.update(t("session.read-only", peer=model.peer or "?"))
        transcript = self.transcript
        if transcript is not None:
            transcript.sync()
        command = self.command_input
        if command is None:
            return
        if self._pasted:
            self.call_later(self._send_pasted)
        command.disabled = model.closed
        if model.closed:
            command.placeholder = t("input.closed")
        elif model.multiline:
            command.placeholder = t("input.placeholder-body")
        else:
            command.placeholder = t("input.placeholder", protocol=protocol)
        command.set_class(model.multiline, "-body")
        self._update_hint(command.value)

    def _update_hint(self, typed: str) -> None:
        hint = self.hint
        if hint is None:
            return
        t, model = self.strings, self.model
        text = Text(overflow="ellipsis", no_wrap=False)
        if model.closed:
            text.append(t("hint.closed", reason=t.reason(model.close_reason) if model.close_reason else "—"), "dim")
        elif model.multiline:
            text.append(t("hint.body"), "italic")
        else:
            waiting = [v for v in machine.valid_verbs(model.engine, model.state) if machine.is_pseudo(v)]
            info = self._typed_command(typed)
            if info is not None:
                text.append(info.syntax, "bold")
                text.append(f"  {info.rfc}", "dim")
                meaning = self.explainer.command(model.protocol, info.verb)
                if meaning:
                    text.append("  " + meaning)
            elif waiting and not machine.verbs_now(model.engine, model.state):
                text.append(t("hint.waiting", what=", ".join(waiting)), "italic")
            else:
                text.append(t("hint.valid") + " ", "dim")
                text.append("  ".join(machine.verbs_now(model.engine, model.state)), "bold")
        if text != self._hint_shown:  # most keystrokes leave the hint as it was
            self._hint_shown = text
            hint.update(text, layout=False)  # two rows whatever it says

    def _typed_command(self, typed: str):
        words = typed.split()
        commands = {c.verb: c for c in self._commands_now()}
        everything = self.model.engine.COMMANDS if self.model.engine else {}
        for word in words[:2]:
            verb = word.upper()
            if verb in commands:
                return commands[verb]
            if verb in everything and len(words) == 1:
                return everything[verb]
        if len(words) == 1 and not typed.endswith(" "):
            starting = [info for verb, info in commands.items() if verb.startswith(words[0].upper())]
            if len(starting) == 1:
                return starting[0]
        return None

    # -- events -------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._update_hint(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        command = self.command_input
        if command is None or self.model.closed:
            return
        line = event.value
        command.value = ""
        self._enter(line)

    def _enter(self, line: str) -> None:
        """A line leaves the input, as Enter sends it."""
        command = self.command_input
        if command is not None and not self.model.multiline:
            command.remember(line)
        self.post_message(self.LineEntered(self, line))

    def on_command_input_pasted(self, event: CommandInput.Pasted) -> None:
        """Several lines pasted: each is sent as if typed, after the session has taken
        the one before (so a DATA line or an IMAP literal is seen as it would be)."""
        event.stop()
        if self.model.closed:
            return
        first_of_paste = not self._pasted
        self._pasted.extend(event.lines)
        if len(event.lines) > 1:
            self.app.notify(self.strings("notify.pasted", count=len(event.lines)), timeout=3)
        if first_of_paste:
            self._send_pasted()

    def _send_pasted(self) -> None:
        if not self._pasted:
            return
        if self.model.closed:
            left = len(self._pasted)
            self._pasted.clear()
            self.app.notify(self.strings("notify.pasted-dropped", count=left), severity="warning")
            return
        self._enter(self._pasted.pop(0))

    def on_show(self) -> None:
        """Shown (opened, or its tab chosen): the input takes the keyboard."""
        self.call_after_refresh(self._take_focus)

    def _take_focus(self) -> None:
        if not self.is_attached or not self._is_active_tab():
            return  # shown a moment ago, but another tab has been chosen since
        focused = self.screen.focused
        if focused is not None and focused in self.query("*"):
            return
        command = self.command_input
        if command is not None and not command.disabled:
            command.focus()
        elif self.transcript is not None:
            self.transcript.focus()
        else:  # nothing to type into here: keys must not reach a hidden session
            self.screen.set_focus(None)

    def _is_active_tab(self) -> bool:
        tabs = next((node for node in self.ancestors if isinstance(node, TabbedContent)), None)
        return tabs is None or (self.parent is not None and tabs.active == self.parent.id)

    def on_descendant_focus(self) -> None:
        self.post_message(self.Focused(self))
