"""The main screen: session tabs (optionally split in two), the mailbox view, and the
sidebar with the state machine and the explained replies of the active session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane

from mailsim.ui.model import SessionModel
from mailsim.ui.widgets.footer import Footer
from mailsim.ui.widgets.mailbox_view import MailboxView
from mailsim.ui.widgets.reply_panel import ReplyPanel
from mailsim.ui.widgets.session_pane import SessionPane
from mailsim.ui.widgets.state_panel import StatePanel

if TYPE_CHECKING:
    from mailsim.ui.app import MailsimApp

NARROW_WIDTH = 110   # below this the sidebar narrows and the mailbox view hides
SHORT_HEIGHT = 34    # below this the state panel shows the current state only
SPLIT_WIDE = 160     # side by side below this, the sidebar narrows so each console keeps ~40 columns


def pane_id(session_id: str) -> str:
    return f"pane-{session_id}"


class MainScreen(Screen):
    CSS_PATH = "main.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.active_session: str | None = None
        self.split = False
        self.mailboxes_wanted: bool | None = None  # None: as the terminal's size suggests

    @property
    def mailsim(self) -> "MailsimApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with Horizontal(id="body"):
            with Vertical(id="work"):
                with Horizontal(id="session-area"):
                    yield TabbedContent(id="tabs-left")
                    yield TabbedContent(id="tabs-right")
                    yield Static(id="welcome")
                yield MailboxView(self.mailsim.store, clock=self.mailsim.highlight_clock, id="mailboxes")
            with Vertical(id="sidebar"):
                yield StatePanel(id="state-panel")
                yield ReplyPanel(id="reply-panel")
        yield Footer(compact=True)

    # -- typed accessors -----------------------------------------------------------------

    @property
    def left_tabs(self) -> TabbedContent:
        return self.query_one("#tabs-left", TabbedContent)

    @property
    def right_tabs(self) -> TabbedContent:
        return self.query_one("#tabs-right", TabbedContent)

    @property
    def state_panel(self) -> StatePanel:
        return self.query_one("#state-panel", StatePanel)

    @property
    def reply_panel(self) -> ReplyPanel:
        return self.query_one("#reply-panel", ReplyPanel)

    @property
    def mailbox_view(self) -> MailboxView:
        return self.query_one("#mailboxes", MailboxView)

    @property
    def welcome(self) -> Static:
        return self.query_one("#welcome", Static)

    def pane(self, session_id: str) -> SessionPane | None:
        try:
            return self.query_one(f"#{pane_id(session_id)} SessionPane", SessionPane)
        except NoMatches:
            return None

    def panes(self) -> list[SessionPane]:
        return list(self.query(SessionPane).results(SessionPane))

    # -- sessions ------------------------------------------------------------------------

    async def add_session(self, model: SessionModel, *, activate: bool = True, right: bool = False) -> None:
        app = self.mailsim
        tabs = self.right_tabs if right and self.split else self.left_tabs
        view = SessionPane(model, app.describe, app.strings, app.explainer)
        await tabs.add_pane(TabPane(app.tab_title(model), view, id=pane_id(model.session_id)))
        if activate or self.active_session is None:
            # Let go of the old input first: a hidden focused widget makes Textual move
            # focus to a neighbour, whose tab would then win the switch back.
            self.set_focus(None)
            tabs.active = pane_id(model.session_id)
            self.activate(model.session_id)
            self._focus_input(view)
        self._update_layout()

    async def remove_session(self, session_id: str) -> None:
        for tabs in (self.left_tabs, self.right_tabs):
            if tabs.query(f"#{pane_id(session_id)}"):
                await tabs.remove_pane(pane_id(session_id))
        if self.active_session == session_id:
            self.active_session = None
            remaining = self.left_tabs.active_pane or self.right_tabs.active_pane
            if remaining is not None:
                self.activate(remaining.id.removeprefix("pane-") if remaining.id else None)
                for view in remaining.query(SessionPane).results(SessionPane):
                    self._focus_input(view)
        if self.split and not self.right_tabs.tab_count:
            self.split = False
        self._update_layout()
        self.refresh_sidebar()

    async def toggle_split(self) -> None:
        """Two sessions side by side: the active one stays left, another goes right."""
        app = self.mailsim
        if self.split:
            for pane in list(self.right_tabs.query(TabPane).results(TabPane)):
                await self._move(pane, self.left_tabs)
            self.split = False
        else:
            self.split = True
            others = [p for p in self.left_tabs.query(TabPane).results(TabPane)
                      if p.id != (self.left_tabs.active_pane.id if self.left_tabs.active_pane else None)]
            if others:
                await self._move(others[-1], self.right_tabs)
            elif self.active_session is not None:
                model = app.sessions[self.active_session]
                await app.open_session(model.protocol, right=True)
        self._update_layout()

    async def _move(self, pane: TabPane, target: TabbedContent) -> None:
        session_id = (pane.id or "").removeprefix("pane-")
        model = self.mailsim.sessions.get(session_id)
        source = self.left_tabs if target is self.right_tabs else self.right_tabs
        await source.remove_pane(pane.id or "")
        if model is not None:
            app = self.mailsim
            view = SessionPane(model, app.describe, app.strings, app.explainer)
            await target.add_pane(TabPane(app.tab_title(model), view, id=pane_id(session_id)))
            target.active = pane_id(session_id)

    def cycle(self, step: int) -> None:
        tabs = self.left_tabs
        ids = [p.id for p in tabs.query(TabPane).results(TabPane) if p.id]
        if not ids:
            return
        current = ids.index(tabs.active) if tabs.active in ids else 0
        self.set_focus(None)
        tabs.active = ids[(current + step) % len(ids)]
        self.activate(tabs.active.removeprefix("pane-"))
        for view in tabs.get_pane(tabs.active).query(SessionPane).results(SessionPane):
            self._focus_input(view)

    def activate(self, session_id: str | None) -> None:
        if session_id == self.active_session:
            return
        self.active_session = session_id
        self.refresh_sidebar()

    def _focus_input(self, view: SessionPane) -> None:
        self.call_after_refresh(self._focus_now, view)

    def _focus_now(self, view: SessionPane) -> None:
        command = view.command_input
        target = command if command is not None and not command.disabled else view.transcript
        if target is not None:
            target.focus()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.activate((event.pane.id or "").removeprefix("pane-"))
        for view in event.pane.query(SessionPane).results(SessionPane):
            self._focus_input(view)

    @on(SessionPane.Focused)
    def _pane_focused(self, event: SessionPane.Focused) -> None:
        # Side by side, the session being typed into is the one the sidebar explains.
        if self.split and event.pane.is_on_screen:
            self.activate(event.pane.model.session_id)

    # -- refreshing ------------------------------------------------------------------------

    async def on_mount(self) -> None:
        self.relabel()
        # Sessions first: laying out an empty screen just before would restyle it twice.
        await self.mailsim.main_screen_ready()
        if not self.left_tabs.tab_count:
            self._update_layout()

    def refresh_session(self, model: SessionModel) -> None:
        view = self.pane(model.session_id)
        if view is not None:
            view.refresh_view()
        if model.session_id == self.active_session:
            self.refresh_sidebar()

    def refresh_sidebar(self) -> None:
        app = self.mailsim
        model = app.sessions.get(self.active_session) if self.active_session else None
        self.state_panel.show(model, app.strings, app.explainer)
        self.reply_panel.show(model, app.strings, app.explainer)
        self.mailbox_view.show_seen(app.seen_of(model))

    def relabel(self) -> None:
        """Every text of the screen again, in the app's current language."""
        app = self.mailsim
        t = app.strings
        self.welcome.update(t("welcome.body"))
        self.mailbox_view.border_title = t("mailbox.title")
        self.mailbox_view.set_strings(t)
        for view in self.panes():
            view.set_language(t, app.explainer)
            model = view.model
            for tabs in (self.left_tabs, self.right_tabs):
                if tabs.query(f"#{pane_id(model.session_id)}"):
                    tabs.get_tab(pane_id(model.session_id)).label = app.tab_title(model)
        self.refresh_sidebar()

    def toggle_mailboxes(self) -> None:
        shown = self.mailboxes_wanted if self.mailboxes_wanted is not None else not self.has_class("-narrow")
        self.show_mailboxes(not shown)

    def show_mailboxes(self, shown: bool) -> None:
        self.mailboxes_wanted = shown
        self._update_layout()

    def on_resize(self, event: Resize) -> None:
        self._update_layout()

    def _update_layout(self) -> None:
        width, height = self.size.width or self.app.size.width, self.size.height or self.app.size.height
        narrow = width < NARROW_WIDTH or (self.split and width < SPLIT_WIDE)
        self.set_class(narrow, "-narrow")
        self.state_panel.compact = height < SHORT_HEIGHT or narrow
        shown = self.mailboxes_wanted if self.mailboxes_wanted is not None else not narrow
        self.mailbox_view.set_class(not shown, "-hidden")
        self.set_class(shown and narrow, "-mailboxes-only")
        empty = not self.left_tabs.tab_count and not self.right_tabs.tab_count
        self.set_class(empty, "-empty")
        self.set_class(self.split, "-split")
        self.refresh_sidebar()
