"""The replay screen: a timeline of steps on the left; on the right, the step's lines
(both answers side by side where today's server differs), the step's session as the
console explains it (state machine, what the last reply means), the sessions' states,
and a mailbox as it was at that step.

The recording is read and re-run in a worker thread with a progress bar; after that
every move is a lookup in what `Replay` precomputed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, ProgressBar, Static

from mailsim.transcript.recorder import TranscriptError
from mailsim.transcript.replay import MailboxKey, Replay
from mailsim.ui.replay.explained import StepExplained
from mailsim.ui.replay.texts import Texts
from mailsim.ui.replay.widgets import (
    ListingTable,
    SessionTail,
    StatePanel,
    StepPanel,
    Timeline,
    changed_mailbox,
    recent_sessions,
    step_text,
)
from mailsim.ui.widgets.footer import Footer

SPEEDS = (1, 2, 5, 10, 20, 50)
MAX_LISTED = 300  # the newest messages of a huge mailbox; enough to see a step's change
PANES = 3  # session panes side by side: the sessions that acted most recently
STATE_ROWS = 6  # sessions listed in the state panel, most recently active first
SHORT_HEIGHT = 34  # below this the step box and the state list give their room to the explanations


class ReplayTimeline(Timeline):
    """Left and right step through the recording (there is one column to move in);
    Home and End go to the starting world and the last step."""

    def action_cursor_left(self) -> None:
        self.screen.action_back()  # type: ignore[attr-defined]

    def action_cursor_right(self) -> None:
        self.screen.action_forward()  # type: ignore[attr-defined]

    def action_scroll_home(self) -> None:
        self.screen.action_first()  # type: ignore[attr-defined]

    def action_scroll_end(self) -> None:
        self.screen.action_last()  # type: ignore[attr-defined]


class ReplayScreen(Screen[None]):
    # The app's stylesheet too: the console's panels shown here take their colours from it
    # (`mailsim replay` runs this screen in an app of its own).
    CSS_PATH = ["replay.tcss", "../styles/app.tcss"]
    BINDINGS = [
        Binding("right,n", "forward", "keys.next"),
        Binding("left,p", "back", "keys.back"),
        Binding("home", "first", "keys.first", show=False),
        Binding("end", "last", "keys.last", show=False),
        Binding("space", "play", "keys.play"),
        Binding("plus,equals_sign", "speed(1)", "keys.faster", show=False),
        Binding("minus", "speed(-1)", "keys.slower", show=False),
        Binding("slash", "search", "keys.search"),
        Binding("g", "jump", "keys.jump"),
        Binding("d", "next_difference", "keys.difference"),
        Binding("m", "next_mailbox", "keys.mailbox"),
        Binding("i", "inspect", "keys.inspect"),
        Binding("escape", "cancel_prompt", show=False),
        Binding("q", "close", "keys.quit"),
    ]

    class Loaded(Message):
        """The recording has been read and re-run (or could not be)."""

        def __init__(self, replay: Replay | None, error: str = "") -> None:
            super().__init__()
            self.replay = replay
            self.error = error

    def __init__(self, path: str | Path, *, lang: str = "en", replay: Replay | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.texts = Texts(lang)
        self.replay: Replay | None = replay
        self.position = 0
        self.speed_index = 2
        self.playing = False
        self.mailbox_key: MailboxKey | None = None
        self._timer = None
        self._search_cache: list[str] | None = None
        self._prompt = ""
        self._listing_shown: tuple[MailboxKey | None, int] | None = None
        pristine = self._bindings.copy()
        localized = BindingsMap()
        for _key, binding in pristine:
            description = self.texts(binding.description) if binding.description.startswith("keys.") else binding.description
            localized._add_binding(dataclasses.replace(binding, description=description, tooltip=description))
        self._bindings = localized

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Vertical(id="loading"):
            yield Static(self.texts("loading", file=self.path.name), id="loading-text")
            yield ProgressBar(total=100, show_eta=False, id="progress")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield ReplayTimeline(cursor_type="row", zebra_stripes=True, id="timeline")
                yield Input(id="prompt")
            with Vertical(id="right"):
                with Horizontal(id="panes"):
                    for number in range(PANES):
                        yield SessionTail(id=f"pane-{number}", classes="pane")
                with VerticalScroll(id="step-scroll"):
                    yield StepPanel(id="step")
                yield StepExplained(self.texts.lang, id="explained")
                yield StatePanel(id="state")
                yield Static(id="listing-title")
                yield ListingTable(cursor_type="row", id="listing")
        yield Static(id="status")
        yield Footer()

    def on_resize(self) -> None:
        # A short terminal keeps the sessions' lines and the explanations; the step's own
        # box and the list of states repeat what those show.
        self.set_class((self.size.height or self.app.size.height) < SHORT_HEIGHT, "-short")

    @property
    def timeline(self) -> ReplayTimeline:
        return self.query_one("#timeline", ReplayTimeline)

    @property
    def prompt(self) -> Input:
        return self.query_one("#prompt", Input)

    def on_mount(self) -> None:
        self.title = self.texts("title", file=self.path.name)
        self.query_one("#body").display = False
        self.prompt.display = False
        if self.replay is not None:
            self.post_message(self.Loaded(self.replay))
        else:
            self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        bar = self.query_one("#progress", ProgressBar)

        def progress(fraction: float) -> None:
            self.app.call_from_thread(bar.update, progress=fraction * 100)

        try:
            replay = Replay.load(self.path, progress=progress)
        except TranscriptError as exc:
            self.post_message(self.Loaded(None, str(exc)))
            return
        self.post_message(self.Loaded(replay))

    def on_replay_screen_loaded(self, message: Loaded) -> None:
        if message.replay is None:
            self.query_one("#loading-text", Static).update(self.texts("error", error=message.error))
            self.query_one("#progress").display = False
            return
        self.replay = message.replay
        self.query_one("#loading").display = False
        self.query_one("#body").display = True
        self.timeline.fill(self.replay, self.texts)
        self.timeline.focus()
        self.go(0)

    # -- moving -----------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self.replay.steps) if self.replay else 0

    def go(self, position: int) -> None:
        """Show the world after `position` steps (0: the starting world)."""
        if self.replay is None:
            return
        self.position = max(0, min(position, self.total))
        replay = self.replay
        if self.timeline.cursor_row != self.position:
            self.timeline.move_cursor(row=self.position)
        self.query_one("#step", StepPanel).show(replay, self.position, self.texts)
        session_id = replay.steps[self.position - 1].session_id if self.position else None
        self.query_one("#explained", StepExplained).show(replay, session_id, self.position)
        self._show_panes()
        self.query_one("#state", StatePanel).show(
            replay, self.position, self.texts, recent_sessions(replay, self.position, STATE_ROWS)
        )
        listing = replay.mailboxes_at(self.position)
        self.mailbox_key = changed_mailbox(replay, self.position) or self.mailbox_key
        if self.mailbox_key not in listing:
            self.mailbox_key = ("alice", "INBOX") if ("alice", "INBOX") in listing else next(iter(listing), None)
        self._show_listing(listing)
        self._show_status()

    def _show_panes(self) -> None:
        assert self.replay is not None
        sessions = recent_sessions(self.replay, self.position, PANES)
        for number in range(PANES):
            pane = self.query_one(f"#pane-{number}", SessionTail)
            pane.display = number < len(sessions)
            if number < len(sessions):
                pane.show(self.replay, sessions[number], self.position)

    def _show_listing(self, listing: dict) -> None:
        title = self.query_one("#listing-title", Static)
        table = self.query_one("#listing", ListingTable)
        if not self._listing_changed():
            return
        self._listing_shown = (self.mailbox_key, self.position)
        if self.mailbox_key is None:
            title.update(self.texts("no-listing"))
            table.show(None, self.texts)
            return
        account, mailbox = self.mailbox_key
        title.update(self.texts("listing", account=account, mailbox=mailbox))
        rows = listing[self.mailbox_key]
        if len(rows) > MAX_LISTED:
            rows = {uid: rows[uid] for uid in sorted(rows)[-MAX_LISTED:]}
        table.show(rows, self.texts)

    def _listing_changed(self) -> bool:
        """Whether the listing on screen is not already the chosen mailbox at this step
        (a refill costs far more than a step, so unchanged mailboxes are left alone)."""
        if self._listing_shown is None or self.replay is None:
            return True
        key, position = self._listing_shown
        if key != self.mailbox_key or abs(position - self.position) > 1:
            return True
        step = max(position, self.position)
        return step > 0 and any(delta[0] == key for delta in self.replay.mailboxes.deltas[step - 1])

    def _show_status(self, extra: str = "") -> None:
        assert self.replay is not None
        changed = len({d.step for d in self.replay.differences})
        verdict = self.texts("differences", count=changed) if changed else self.texts("clean")
        play = self.texts("playing", speed=SPEEDS[self.speed_index]) if self.playing else self.texts("paused")
        where = self.texts("position", number=self.position, total=self.total)
        self.query_one("#status", Static).update(" · ".join(p for p in (where, verdict, play, extra) if p))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Only the cursor's current row counts: highlights queued by earlier moves are stale.
        if event.data_table is self.timeline and event.cursor_row == self.timeline.cursor_row != self.position:
            self.go(event.cursor_row)

    def action_forward(self) -> None:
        self.go(self.position + 1)

    def action_back(self) -> None:
        self.go(self.position - 1)

    def action_first(self) -> None:
        self.go(0)

    def action_last(self) -> None:
        self.go(self.total)

    def action_next_difference(self) -> None:
        if self.replay is None:
            return
        for step in self.replay.steps[self.position:]:
            if step.differs:
                self.go(step.number)
                return

    def action_next_mailbox(self) -> None:
        if self.replay is None:
            return
        keys = list(self.replay.mailboxes_at(self.position))
        if keys:
            index = keys.index(self.mailbox_key) + 1 if self.mailbox_key in keys else 0
            self.mailbox_key = keys[index % len(keys)]
            self._listing_shown = None
            self._show_listing(self.replay.mailboxes_at(self.position))

    def action_inspect(self) -> None:
        """Open the highlighted message of the listing, as it was at this step, in the
        MIME inspector."""
        if self.replay is None or self.mailbox_key is None:
            return
        table = self.query_one("#listing", ListingTable)
        if table.row_count == 0:
            return
        uid = int(str(table.get_row_at(table.cursor_row)[0]))
        row = self.replay.mailboxes_at(self.position)[self.mailbox_key].get(uid)
        if row is None:
            return
        from mailsim.ui.inspector.hooks import inspect_raw

        account, mailbox = self.mailbox_key
        inspect_raw(self.app, row.raw, f"{account}/{mailbox} UID {uid} · {self.texts('step')} {self.position}")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "listing":
            self.action_inspect()

    # -- playing -----------------------------------------------------------------------------

    def action_play(self) -> None:
        self.playing = not self.playing
        self._restart_timer()
        if self.replay is not None:
            self._show_status()

    def action_speed(self, change: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + change))
        self._restart_timer()
        if self.replay is not None:
            self._show_status()

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.playing:
            self._timer = self.set_interval(1 / SPEEDS[self.speed_index], self._tick)

    def _tick(self) -> None:
        if self.position >= self.total:
            self.playing = False
            self._restart_timer()
            self._show_status()
            return
        self.go(self.position + 1)

    # -- search and jump ---------------------------------------------------------------------

    def _open_prompt(self, kind: str) -> None:
        self._prompt = kind
        self.prompt.placeholder = self.texts(kind)
        self.prompt.value = ""
        self.prompt.display = True
        self.prompt.focus()

    def action_search(self) -> None:
        self._open_prompt("search")

    def action_jump(self) -> None:
        self._open_prompt("jump")

    def action_close(self) -> None:
        """Leave the replay: back to the app that opened it, or out of `mailsim replay`."""
        if len(self.app.screen_stack) > 2:
            self.dismiss()
        else:
            self.app.exit(0)

    def action_cancel_prompt(self) -> None:
        self.prompt.display = False
        self.timeline.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if self.replay is None or not text:
            self.action_cancel_prompt()
            return
        if self._prompt == "jump":
            if text.isdigit():
                self.go(int(text))
                self.action_cancel_prompt()
            else:
                self._show_status(self.texts("bad-number", text=text))
            return
        found = self.find(text, self.position)
        if found is None:
            self._show_status(self.texts("not-found", text=text))
        else:
            self.go(found)

    def find(self, text: str, after: int) -> int | None:
        """The number of the next step (after `after`, wrapping) whose lines contain `text`."""
        assert self.replay is not None
        if self._search_cache is None:
            self._search_cache = [step_text(step) for step in self.replay.steps]
        needle = text.lower()
        count = len(self._search_cache)
        for offset in range(count):
            index = (after + offset) % count
            if needle in self._search_cache[index]:
                return index + 1
        return None
