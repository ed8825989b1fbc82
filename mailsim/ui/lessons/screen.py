"""The main screen with a lesson: the lesson panel takes the sidebar's place beside the
console, and a `LessonRunner` attached to the app's Bus and store ticks the steps.

The screen carries out what the runner asks (open a session, inspect a message,
deliver one from outside, bring a view to the front), types a step's demo line into
the right session's input for the student to send, and writes the lab report when
the lesson ends. Keys: ctrl+g next hint, ctrl+y type the demo line, ctrl+f continue
(reading steps), ctrl+r lesson panel ↔ state machine and replies.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual import on
from textual.binding import Binding, BindingsMap
from textual.events import Resize

from mailsim.lesson.actions import deliver_from_outside, message_to_inspect
from mailsim.lesson.messages import (
    ActionRequested,
    AnswerChecked,
    InspectorOpened,
    LessonFinished,
    RunnerMessage,
    StepCompleted,
    StepProgressed,
    StepStarted,
)
from mailsim.lesson.model import (
    CloseSession,
    DeliverMessage,
    InspectMessage,
    Lesson,
    MessageOpened,
    OpenSession,
    Panel,
    ShowPanel,
    Step,
    When,
)
from mailsim.lesson.report import LabReport
from mailsim.lesson.runner import LessonRunner
from mailsim.ui.lessons.choices import ChoiceList
from mailsim.ui.lessons.catalog import LessonSettings, catalog, shown_path, write_report
from mailsim.ui.lessons.inspect import inspector_screen
from mailsim.ui.lessons.panel import LessonPanel
from mailsim.ui.lessons.view import PanelState, drawing_width, panel_view
from mailsim.ui.screens import main as main_module
from mailsim.ui.screens.main import SHORT_HEIGHT, MainScreen, pane_id
from mailsim.ui.widgets.mailbox_view import MailboxView
from mailsim.ui.widgets.session_pane import SessionPane

_MAIN_CSS = [str(Path(main_module.__file__).parent / p) for p in (
    [MainScreen.CSS_PATH] if isinstance(MainScreen.CSS_PATH, str) else MainScreen.CSS_PATH)]


CONSOLE_MIN = 36     # columns the console keeps when the lesson panel widens for a drawing
DRAWING_FRAME = 7    # the panel's border and padding, the fence's padding, the scrollbar


class LessonScreen(MainScreen):
    CSS_PATH = [*_MAIN_CSS, str(Path(__file__).parent / "lessons.tcss")]
    # Descriptions are keys into strings/<lang>.toml; `_localize` fills them in.
    BINDINGS = [
        Binding("ctrl+g", "hint", "lessons.bind.hint", priority=True),
        Binding("ctrl+y", "demo", "lessons.bind.demo", priority=True),
        Binding("ctrl+f", "continue", "lessons.bind.continue", priority=True),
        Binding("ctrl+r", "toggle_panel", "lessons.bind.panel", priority=True),
    ]

    def __init__(self, lesson: Lesson, settings: LessonSettings | None = None, *, resume: bool = True,
                 mention_prerequisites: bool = True) -> None:
        super().__init__()
        self.mention_prerequisites = mention_prerequisites
        self.lesson = lesson
        self.settings = settings or LessonSettings()
        self.resume = resume
        self.runner = LessonRunner(lesson, listener=self._heard, progress=self.settings.progress,
                                   clock=self.settings.clock)
        self.state = PanelState()
        self.named_sessions: dict[str, str] = {}    # an open-session action's name -> session id
        self.showing_sidebar = False
        self.report_paths: tuple[Path, Path] | None = None
        self._queue: list[RunnerMessage] = []
        self._drain_scheduled = False
        self._draining = False
        self._demo_position = 0
        self._demo_chain = False  # ctrl+y on a step of several lines: each Enter types the next
        self._offered: tuple[str, str, int, bytes, str] | None = None  # a message the lesson opened for later
        self._last_inspected: tuple[str, str, int] | None = None
        self._scroll = "home"
        self._focus_step = False
        self._pristine = self._bindings.copy()

    # -- typed accessors -----------------------------------------------------------------

    @property
    def panel(self) -> LessonPanel:
        return self.query_one("#lesson-panel", LessonPanel)

    # -- lifecycle -----------------------------------------------------------------------

    async def on_mount(self) -> None:
        """Runs before the main screen's own mount: the panel is there when it relabels."""
        self.add_class("-lesson")
        self._localize()
        await self.query_one("#sidebar").mount(LessonPanel(self.mailsim.strings, id="lesson-panel"), before=0)
        self._fit()
        self.call_later(self._start)

    async def _start(self) -> None:
        self.runner.attach(self.mailsim.bus, self.mailsim.store)
        self.runner.start(resume=self.resume)
        self._mention_prerequisites()
        if self.runner.finished and self.report_paths is None:
            self._write_report()  # a lesson finished earlier: its report again
        self._focus_step = True
        await self._drain()

    async def on_unmount(self) -> None:
        self.runner.detach()

    def _mention_prerequisites(self) -> None:
        """Opened directly (not from the picker, which lists them): say which lessons
        this one builds on and are not done yet."""
        if not self.mention_prerequisites or not self.lesson.prerequisites or self.runner.index != 0:
            return
        lang = self.mailsim.lang
        entries = {e.lesson.id: e for e in catalog(self.settings.files(), self.settings.progress) if e.lesson}
        pending = [f"«{entries[i].lesson.title.get(lang)}»" if i in entries else i
                   for i in self.lesson.prerequisites if not (i in entries and entries[i].finished)]
        if pending:
            t = self.mailsim.strings
            self.app.notify(t("lessons.notify.prerequisites", ids=", ".join(pending)), timeout=10)

    def detach(self) -> None:
        """Stop listening (the screen is being replaced)."""
        self.runner.detach()

    def on_screen_resume(self) -> None:
        """Back from the inspector (or help): the keyboard goes where the step needs it."""
        if self.query("#lesson-panel") and self.panel.view is not None:
            self.call_after_refresh(self._focus_for, self.runner.step)

    def _localize(self) -> None:
        t = self.mailsim.strings
        localized = BindingsMap()
        for _key, binding in self._pristine:
            description = t(binding.description) if binding.description.startswith("lessons.") else binding.description
            localized._add_binding(dataclasses.replace(binding, description=description, tooltip=description))
        self._bindings = localized

    def relabel(self) -> None:
        super().relabel()
        if not self.query("#lesson-panel"):
            return
        self._localize()
        self.panel.strings = self.mailsim.strings
        self._scroll = ""
        self.call_later(self._refresh_panel)

    def _update_layout(self) -> None:
        """As the main screen lays itself out, but the state machine under the lesson is
        always the compact one: the lesson needs the room."""
        super()._update_layout()
        if not self.state_panel.compact:
            self.state_panel.compact = True
            self.refresh_sidebar()

    def on_resize(self, event: Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        height = self.size.height or self.app.size.height
        self.set_class(height >= SHORT_HEIGHT, "-tall")
        if self.query("#lesson-panel"):
            self.panel.set_class(height < SHORT_HEIGHT, "-short")
            if self.panel.view is not None:
                self._scroll = ""
                self.call_later(self._refresh_panel)

    # -- the runner's messages -----------------------------------------------------------

    def _heard(self, message: RunnerMessage) -> None:
        """The runner's listener: called while events are published, so only queue."""
        self._queue.append(message)
        if not self._draining and not self._drain_scheduled:
            self._drain_scheduled = True
            self.call_later(self._drain)

    async def _drain(self) -> None:
        self._drain_scheduled = False
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue:
                await self._handle(self._queue.pop(0))
        finally:
            self._draining = False
        await self._refresh_panel()

    async def _handle(self, message: RunnerMessage) -> None:
        state = self.state
        if isinstance(message, StepStarted):
            state.progress = None
            if message.resumed:
                state.just_done = None
                await self.restore(message.index)
            self._demo_position = 0
            self._demo_chain = False
            self._scroll = "home"
            self._focus_step = True
        elif isinstance(message, StepProgressed):
            state.progress = (message.count, message.needed)
        elif isinstance(message, StepCompleted):
            state.just_done = message.index
        elif isinstance(message, AnswerChecked):
            state.answer = message
            if not message.correct:
                self._scroll = "feedback"
        elif isinstance(message, ActionRequested):
            await self.perform(message.action)
        elif isinstance(message, LessonFinished):
            self._write_report()
            self._scroll = "home"

    async def _refresh_panel(self) -> None:
        if not self.query("#lesson-panel"):
            return
        app = self.mailsim
        view = panel_view(self.runner, app.lang, app.strings, self.state)
        scroll, self._scroll = self._scroll, ""
        await self.panel.show(view, scroll_home=scroll == "home")
        self._fit_drawing(view)
        self.refresh_bindings()
        if scroll in ("hint", "feedback"):
            self.call_after_refresh(self._scroll_to, scroll)
        if self._focus_step:
            self._focus_step = False
            self._focus_for(self.runner.step)

    def _fit_drawing(self, view) -> None:
        """A step with a drawing wider than the panel: the panel widens to show it whole,
        as long as the console keeps `CONSOLE_MIN` columns, or takes the whole screen on
        a step that is only read or answered; the stylesheet's width otherwise."""
        sidebar = self.query_one("#sidebar")
        drawing = max(drawing_width(view.text), drawing_width(view.after))
        total = self.size.width or self.app.size.width
        needed = drawing + DRAWING_FRAME
        usual = 36 if self.has_class("-narrow") else 52
        step = self.runner.step
        only_read = step is not None and (step.is_reading or step.question is not None)
        if drawing and needed > usual and needed > total - CONSOLE_MIN and only_read:
            sidebar.styles.width = total  # nothing to type in this step: the lesson takes the screen
        elif drawing and needed > usual:
            sidebar.styles.width = max(usual, min(needed, total - CONSOLE_MIN))
        else:
            sidebar.styles.clear_rule("width")  # inline only: the stylesheet's width again

    def _scroll_to(self, what: str) -> None:
        body = self.panel.body
        if what == "hint":  # the bottom of the step's text, where the new hint is
            body.scroll_to(y=max(0, self.panel.text.virtual_region.bottom - body.size.height), animate=False)
        else:
            body.scroll_to_widget(self.panel.query_one("#lesson-feedback"), animate=False)

    def _focus_for(self, step: Step | None) -> None:
        if self.app.screen is not self:
            return
        if step is None:  # the lesson is over: the keyboard goes back to the console
            model = self.mailsim.active_model()
            pane = self.pane(model.session_id) if model is not None else None
            if pane is not None and pane.command_input is not None and not pane.command_input.disabled:
                pane.command_input.focus()
            return
        if step.question is not None or step.is_reading:
            self.panel.focus_question()
            return
        session_id = self.session_for(step)
        pane = self.pane(session_id) if session_id else None
        command = pane.command_input if pane is not None else None
        if command is not None and not command.disabled:
            command.focus()

    # -- actions the runner asks for -------------------------------------------------------

    async def perform(self, action: object) -> None:
        app, t = self.mailsim, self.mailsim.strings
        if isinstance(action, OpenSession):
            model = await app.open_session(action.protocol)
            self.named_sessions[action.name] = model.session_id
        elif isinstance(action, CloseSession):
            # The connection drops (no QUIT): the tab stays, so the student sees the end.
            session_id = self.named_sessions.get(action.name)
            model = app.sessions.get(session_id) if session_id else None
            if model is not None and model.connection is not None:
                model.connection.hang_up()
        elif isinstance(action, DeliverMessage):
            try:
                app.bus.publish(deliver_from_outside(app.store, action))
            except ValueError as exc:
                app.notify(t("lessons.notify.deliver-failed", error=str(exc)), severity="error")
        elif isinstance(action, InspectMessage):
            stored = message_to_inspect(app.store, action)
            if stored is None:
                app.notify(t("lessons.notify.nothing-to-inspect", account=action.account, mailbox=action.mailbox),
                           severity="warning")
                return
            if self._typing():
                self.offer(action.account, action.mailbox, stored.uid, stored.raw, action.part)
            else:
                self.inspect(action.account, action.mailbox, stored.uid, stored.raw, action.part)
        elif isinstance(action, ShowPanel):
            self.show_panel(action.panel)

    async def restore(self, index: int) -> None:
        """A resumed lesson: bring the fresh store and the reopened sessions to where the
        student left them, by sending the demo lines of the steps already done (and
        their deliveries and dropped connections) with the runner not listening."""
        app = self.mailsim
        replayed = (DeliverMessage, CloseSession)
        # Every session is open again already; a step that names none typed into the
        # latest of those open at that step, not at the step where the student stopped.
        opened: list[str] = []
        self.runner.detach()
        try:
            for step in self.lesson.steps[:index]:
                for when in (When.START, When.SUCCESS):
                    for action in step.actions_at(when):
                        if isinstance(action, replayed):
                            await self.perform(action)
                        elif isinstance(action, OpenSession) and action.name in self.named_sessions:
                            opened.append(self.named_sessions[action.name])
                    if when is When.START:
                        session_id = self.session_for(step, opened) if step.demo else None
                        for line in step.demo if session_id else ():
                            app.send(session_id, line)
        finally:
            self.runner.attach(app.bus, app.store)
        if index:
            app.notify(app.strings("lessons.notify.restored", number=index + 1), timeout=6)

    def inspect(self, account: str, mailbox: str, uid: int, raw: bytes, part: str = "") -> None:
        """Open the MIME inspector on a stored message; each part shown is reported to the runner."""
        app = self.mailsim

        def reported(section: str) -> None:
            self.runner.feed(InspectorOpened(account, mailbox, uid, section))

        screen = inspector_screen(raw, title=f"{account}/{mailbox} UID {uid}", lang=app.lang, part=part,
                                  reported=reported)
        if screen is None:
            app.notify(app.strings("lessons.notify.no-inspector", account=account, mailbox=mailbox, uid=uid))
            reported(part)
            return
        self._last_inspected = (account, mailbox, uid)
        app.push_screen(screen)
        step = self.runner.step
        if step is not None and isinstance(step.expect, MessageOpened) and step.expect.part:
            # The lesson panel is hidden under the inspector: say what to do there.
            app.notify(step.title.get(app.lang), timeout=8)

    def _typing(self) -> bool:
        """The keyboard is in a console: a screen pushed now would take the next line typed."""
        focused = self.focused
        return focused is not None and any(isinstance(node, SessionPane) for node in focused.ancestors_with_self)

    def offer(self, account: str, mailbox: str, uid: int, raw: bytes, part: str = "") -> None:
        """The inspector the lesson wants, announced rather than pushed under the student's
        fingers: Ctrl+T (or the demo key of an `opened` step) opens it."""
        self._offered = (account, mailbox, uid, raw, part)
        self._last_inspected = (account, mailbox, uid)
        t = self.mailsim.strings
        self.app.notify(t("lessons.notify.inspector-ready", account=account, mailbox=mailbox, uid=uid), timeout=8)
        self.refresh_bindings()

    def open_offered(self) -> bool:
        """Ctrl+T: open the message the lesson announced; False if there is none."""
        offered, self._offered = self._offered, None
        if offered is None:
            return False
        self.inspect(*offered)
        return True

    def reopen_inspector(self, step: Step) -> None:
        """An `opened` step's "do it for me": the inspector on the message the lesson
        showed last (or the newest of the step's account)."""
        app = self.mailsim
        expect = step.expect
        assert isinstance(expect, MessageOpened)
        target = self._last_inspected
        if target is None or (expect.account and expect.account.lower() != target[0].lower()):
            action = InspectMessage(expect.account or next(iter(app.store.accounts), ""))
            stored = message_to_inspect(app.store, action)
            target = (action.account, action.mailbox, stored.uid) if stored is not None else None
        stored = None
        if target is not None and app.store.has_mailbox(target[0], target[1]):
            stored = next((m for m in app.store.mailbox(target[0], target[1]).messages if m.uid == target[2]), None)
        if target is None or stored is None:
            app.notify(app.strings("lessons.notify.nothing-to-inspect", account=expect.account, mailbox="INBOX"),
                       severity="warning")
            return
        self.inspect(target[0], target[1], target[2], stored.raw)

    def show_panel(self, panel: Panel) -> None:
        t = self.mailsim.strings
        if panel is Panel.LESSON:
            self.set_sidebar(False)
        elif panel is Panel.STATE:
            if not self.has_class("-tall"):
                self.app.notify(t("lessons.notify.see-state"), timeout=6)
        elif panel is Panel.REPLIES:
            self.app.notify(t("lessons.notify.see-replies"), timeout=6)
        elif panel is Panel.MAILBOXES:
            if self.has_class("-narrow"):
                self.app.notify(t("lessons.notify.see-mailboxes"), timeout=6)
            else:
                self.mailboxes_wanted = True
                self._update_layout()
        elif panel is Panel.TRANSCRIPT:
            model = self.mailsim.active_model()
            pane = self.pane(model.session_id) if model is not None else None
            if pane is not None and pane.transcript is not None:
                pane.transcript.focus()
        # CONSOLE: the session just opened has the keyboard already; INSPECTOR: the
        # inspect action opens it.

    def set_sidebar(self, shown: bool) -> None:
        """The state machine and replies instead of the lesson panel (or back)."""
        self.showing_sidebar = shown
        self.set_class(shown, "-sidebar")

    # -- where demo lines go -----------------------------------------------------------------

    def session_for(self, step: Step, among: list[str] | None = None) -> str | None:
        """The open console session a step's demo goes to: the one it names, else the
        latest of its protocol (of `among`, when given: the sessions open at that step)."""
        sessions = self.mailsim.sessions
        if step.session:
            session_id = self.named_sessions.get(step.session)
            model = sessions.get(session_id) if session_id else None
            return session_id if model is not None and not model.closed else None
        protocols = self.lesson.protocols
        protocol = step.protocol or (protocols[0] if len(protocols) == 1 else None)
        for session_id in reversed(list(sessions) if among is None else among):
            model = sessions.get(session_id)
            if model is None or model.read_only or model.closed:
                continue
            if protocol is None or model.protocol is protocol:
                return session_id
        return None

    @on(SessionPane.LineEntered)
    def _line_entered(self, message: SessionPane.LineEntered) -> None:
        """A line was sent (the app sends it): the next demo line is the one after it."""
        step = self.runner.step
        if step is None or not step.demo or self._demo_position >= len(step.demo):
            return
        if message.pane.model.session_id == self.session_for(step) and message.line == step.demo[self._demo_position]:
            self._demo_position += 1
            if self._demo_chain and self._demo_position < len(step.demo):
                # "Type it for me" on a step of several lines (a message in DATA) types
                # every line, one after the other: the student presses Enter on each.
                command = message.pane.command_input
                if command is not None and not command.value:
                    line = step.demo[self._demo_position]
                    command.value = line
                    command.cursor_position = len(line)

    @on(ChoiceList.Forwarded)
    def _typed_into_choices(self, message: ChoiceList.Forwarded) -> None:
        """Typed while a question had the keyboard: kept in the console's input, not lost."""
        step = self.runner.step
        session_id = self.session_for(step) if step is not None else None
        pane = self.pane(session_id) if session_id else None
        command = pane.command_input if pane is not None else None
        if command is None or command.disabled:
            return
        first = not command.value
        command.insert_text_at_cursor(message.text)
        if first:
            self.app.notify(self.mailsim.strings("lessons.notify.answer-first"), timeout=5)

    @on(MailboxView.MessageChosen)
    def _message_chosen(self, message: MailboxView.MessageChosen) -> None:
        """Opened from the mailbox view: the lesson's inspector, so the runner hears of it."""
        message.stop()
        app = self.mailsim
        try:
            stored = next((m for m in app.store.mailbox(message.account, message.mailbox).messages
                           if m.uid == message.uid), None)
        except Exception:
            stored = None
        if stored is not None:
            self.inspect(message.account, message.mailbox, message.uid, stored.raw)

    # -- keys ------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that do something now show in the footer."""
        step = self.runner.step
        if action == "hint":
            return step is not None and self.runner.hints_shown(step) < len(step.hints)
        if action == "demo":
            return step is not None and (bool(step.demo) or isinstance(step.expect, MessageOpened))
        if action == "continue":
            several = step is not None and step.question is not None and sum(c.correct for c in step.question.choices) > 1
            return step is not None and (step.is_reading or several)
        return True

    def action_hint(self) -> None:
        if self.runner.step is None:
            return
        if self.runner.next_hint() is None:
            self.app.notify(self.mailsim.strings("lessons.notify.no-more-hints"), timeout=3)
            return
        self._scroll = "hint"
        self.call_later(self._refresh_panel)

    def action_demo(self) -> None:
        """Type the step's next demo line into its session's input (Enter sends it)."""
        t, step = self.mailsim.strings, self.runner.step
        if step is None:
            return
        if isinstance(step.expect, MessageOpened):
            self.reopen_inspector(step)
            return
        if not step.demo:
            key = "lessons.notify.no-demo-question" if step.question is not None else "lessons.notify.no-demo"
            self.app.notify(t(key), timeout=4)
            return
        session_id = self.session_for(step)
        pane = self.pane(session_id) if session_id else None
        command = pane.command_input if pane is not None else None
        if session_id is None or command is None or command.disabled:
            protocol = (step.protocol or self.lesson.protocols[0]).value.upper()
            self.app.notify(t("lessons.notify.no-session", protocol=protocol), severity="warning")
            return
        for tabs in (self.left_tabs, self.right_tabs):
            if tabs.query(f"#{pane_id(session_id)}"):
                tabs.active = pane_id(session_id)
        self.activate(session_id)
        line = step.demo[min(self._demo_position, len(step.demo) - 1)]
        self._demo_chain = len(step.demo) > 1
        self.set_sidebar(False)
        command.value = line
        command.cursor_position = len(line)
        command.focus()

    def action_continue(self) -> None:
        """Move on from a reading step; on a question with several right choices,
        check the choices ticked."""
        if self.runner.advance():
            return
        step = self.runner.step
        if step is None or step.question is None:
            return
        view = self.panel.view
        if view is not None and view.question is not None and view.question.several:
            self.runner.answer(list(self.panel.several.selected), self.mailsim.lang)
        else:
            self.panel.focus_question()

    def action_toggle_panel(self) -> None:
        self.set_sidebar(not self.showing_sidebar)

    @on(LessonPanel.Answered)
    def _answered(self, message: LessonPanel.Answered) -> None:
        step = self.runner.step
        if step is None or step.question is None:
            return
        self.runner.answer(message.value, self.mailsim.lang)

    @on(LessonPanel.Continued)
    def _continued(self) -> None:
        self.runner.advance()

    # -- the end ---------------------------------------------------------------------------------

    def _write_report(self) -> None:
        app = self.mailsim
        report = LabReport.build(self.lesson, self.runner.progress, self.runner.transcript, lang=app.lang,
                                 student=self.settings.student)
        try:
            self.report_paths = write_report(self.settings.report_dir, self.lesson.id, report.markdown(),
                                             report.html())
        except OSError as exc:
            self.state.report_error = exc.strerror or str(exc)
            return
        self.state.report = (shown_path(self.report_paths[0]), shown_path(self.report_paths[1]))
