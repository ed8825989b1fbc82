"""The mailsim app, and `make_app()`: the one factory the CLI and the tests use.

Determinism comes from configuration (a fixed clock, sequential ids, no cursor blink),
never from patching: a test builds the same app the student runs, with other settings.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingsMap
from textual.screen import Screen

from mailsim.clock import Clock, IdGenerator
from mailsim.events import Closed, Connected, DeletionMarked, Delivered, Event, Note, Protocol, RelayHop, TlsStarted
from mailsim.protocol.explain import Explainer
from mailsim.protocol.registry import ENGINES
from mailsim.store.store import MailStore
from mailsim.transcript.bus import Bus
from mailsim.ui.console import CONSOLE_PEER, ConsoleConnection

if TYPE_CHECKING:
    from mailsim.protocol.seen import SeenMailboxes
    from mailsim.transport.client import Connection, ServerAddress
    from mailsim.transport.tap import WatchRelay
from mailsim.ui.literal import LiteralCommand
from mailsim.ui.model import Direction, SessionModel, TranscriptLine
from mailsim.ui.screens.main import MainScreen
from mailsim.ui.strings import Strings, default_language
from mailsim.ui.widgets.mailbox_view import MailboxView
from mailsim.ui.widgets.session_pane import SessionPane

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"


class MailsimApp(App[int]):
    # The main screen's CSS too: read with the app's, it is parsed once; read when the
    # screen is pushed, Textual parses every stylesheet of the app again.
    CSS_PATH = ["styles/app.tcss", "screens/main.tcss"]
    TITLE = "mailsim"
    # Descriptions are keys into strings/<lang>.toml; `_localize_bindings` fills them in.
    BINDINGS = [
        Binding("f1", "help", "keys.help"),
        Binding("f2", "open_session('smtp')", "keys.smtp"),
        Binding("f3", "open_session('pop3')", "keys.pop3"),
        Binding("f4", "open_session('imap')", "keys.imap"),
        Binding("f5", "close_session", "keys.close"),
        Binding("f6", "split", "keys.split"),
        Binding("f7", "toggle_mailboxes", "keys.mailboxes"),
        Binding("f8", "toggle_bytes", "keys.bytes"),
        Binding("f9", "toggle_language", "keys.language"),
        Binding("f10", "toggle_theme", "keys.theme"),
        Binding("ctrl+o", "compose", "keys.compose", priority=True),
        Binding("ctrl+t", "inspect_session", "keys.inspect", show=False, priority=True),
        Binding("ctrl+n", "new_message", "keys.new-message", show=False, priority=True),
        Binding("ctrl+l", "toggle_listen", "keys.listen", show=False),
        Binding("ctrl+pagedown", "cycle(1)", "keys.next", show=False),
        Binding("ctrl+pageup", "cycle(-1)", "keys.previous", show=False),
        # Not ctrl+s: in the message editor and the composer ctrl+s sends.
        Binding("f11", "screenshot", "keys.screenshot", show=False),
        Binding("f12", "queue", "relay.key-queue", show=False),
        Binding("ctrl+q", "quit", "keys.quit", priority=True),
    ]

    def __init__(
        self,
        store: MailStore,
        *,
        lang: str = "en",
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        bus: Bus | None = None,
        listen: bool = False,
        server_options: object | None = None,
        open_on_start: Sequence[Protocol] = (Protocol.SMTP,),
        cursor_blink: bool = True,
        dark: bool = True,
        engines: Mapping[Protocol, type] | None = None,
        remotes: Sequence[ServerAddress] = (),
        relays: Sequence[WatchRelay] = (),
        highlight_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.ids = ids
        self.bus = bus or Bus()
        self.engines = ENGINES if engines is None else engines  # ENGINES imports an engine on first use
        self.sessions: dict[str, SessionModel] = {}
        self.listen_on_start = listen
        self.server_options = server_options
        self.servers: object | None = None
        self.listening: dict[Protocol, tuple[str, int]] = {}
        self.open_on_start = tuple(open_on_start)
        self.cursor_blink = cursor_blink
        self.show_bytes = False
        self.lang_from_locale = False  # chosen from the environment: the app says so once
        self.lang = lang
        self.strings = Strings(lang)
        self.explainer = Explainer(lang)
        self.theme = DARK_THEME if dark else LIGHT_THEME
        self._counter = 0
        self._notes_once: set[tuple[Protocol, str]] = set()  # general notes already shown
        self._dirty: dict[str, None] = {}
        self._flush_pending = False
        self._pristine_bindings = self._bindings.copy()
        self._localize_bindings()
        self._unsubscribe = self.bus.subscribe(self._on_event)
        self.queue_scheduler: object | None = None  # relays queued mail (transport/queue.py)
        # `mailsim connect`: console sessions go over TCP to these servers (F2/F3/F4 too).
        self.remotes = tuple(remotes)
        # `mailsim watch`: relays (transport/tap.py) that run with the app.
        self.relays = tuple(relays)
        # What "just changed" in the mailbox view fades by this clock (tests hold it still).
        self.highlight_clock = highlight_clock

    # -- screens and language ----------------------------------------------------------

    @property
    def main(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not up")

    def _localize_bindings(self) -> None:
        localized = BindingsMap()
        for _key, binding in self._pristine_bindings:
            if binding.action == "command_palette":
                description = self.strings("keys.palette")
            elif binding.description.startswith(("keys.", "relay.")):
                description = self.strings(binding.description)
            else:
                description = binding.description
            localized._add_binding(dataclasses.replace(binding, description=description, tooltip=description))
        self._bindings = localized

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.strings = Strings(lang)
        self.explainer = Explainer(lang)
        self._localize_bindings()
        self.sub_title = self._sub_title()
        self.main.relabel()
        self.refresh_bindings()

    def key_list(self) -> list[tuple[str, str]]:
        """(key, what it does) for every binding, for the help screen."""
        rows = []
        for _key, binding in self._bindings:
            if binding.description:  # Textual's own undescribed bindings (ctrl+c copy) stay out
                rows.append((self.get_key_display(binding), binding.description))
        rows.append(("↑ ↓", self.strings("keys.history")))
        rows.append(("→", self.strings("keys.accept")))
        return rows

    def tab_title(self, model: SessionModel) -> str:
        protocol = model.protocol.value.upper()
        if model.hop is not None:
            return self.strings("relay.tab", number=model.number, server=model.hop.server_host)
        if model.read_only:
            return self.strings("tab.remote", protocol=protocol, peer=model.peer)
        if model.session_id.startswith("connect-"):
            return self.strings("connect.tab", protocol=protocol, number=model.number, peer=model.peer)
        return self.strings("tab.console", protocol=protocol, number=model.number)

    def describe(self, line: TranscriptLine) -> str:
        """The text of a transcript line that is not on the wire."""
        t, event = self.strings, line.event
        if isinstance(event, Connected):
            if event.peer == CONSOLE_PEER or not event.peer:
                return t("line.connected-console", protocol=event.protocol.value.upper())
            if event.session_id.startswith("connect-"):
                return t("connect.line-connected", protocol=event.protocol.value.upper(), peer=event.peer)
            return t("line.connected-remote", protocol=event.protocol.value.upper(), peer=event.peer)
        if isinstance(event, Closed):
            return t("line.closed", reason=t.reason(event.reason))
        if isinstance(event, Delivered):
            if event.relayed:
                return t("line.relayed", recipient=event.recipient, queue_id=event.queue_id)
            return t("line.delivered", recipient=event.recipient, account=event.account, mailbox=event.mailbox,
                     uid=event.uid, size=event.size)
        if isinstance(event, Note):
            return "» " + (self.explainer.note(event.protocol, event.key, event.params) or event.key)
        if isinstance(event, TlsStarted):
            return self._describe_tls(event)
        if isinstance(event, RelayHop):
            return t("relay.line-hop", client=event.client_host, queue_id=event.queue_id, recipient=event.recipient,
                     server=event.server_host, attempt=event.attempt)
        return ""

    def _describe_tls(self, event: TlsStarted) -> str:
        """The point of the upgrade and the handshake's summary."""
        t = self.strings
        if event.simulated:
            return t("tls.started-replayed")
        key = "tls.started-implicit" if event.implicit else "tls.started-starttls"
        if event.session_id.startswith("connect-"):  # mailsim is the TLS client: no records to show
            key = "connect.tls-implicit" if event.implicit else "connect.tls-started"
        return t(key, version=event.version, cipher=event.cipher, subject=event.subject, fingerprint=event.fingerprint)

    def _sub_title(self) -> str:
        if not self.listening:
            return self.strings("app.subtitle", domain=self.store.domain)
        ports = "  ".join(f"{p.value.upper()} {host}:{port}" for p, (host, port) in self.listening.items())
        return self.strings("app.subtitle-listening", domain=self.store.domain, ports=ports)

    # -- lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.title = self.strings("app.title")
        self.sub_title = self._sub_title()
        self.push_screen(MainScreen())

    async def main_screen_ready(self) -> None:
        """The main screen is up: open the first sessions, start listening if asked."""
        if self.lang_from_locale:
            from mailsim.language import locale_source

            variable, value = locale_source()
            where = f"{variable}={value}" if variable else "—"
            self.notify(self.strings("notify.language", locale=where), timeout=8)
        for protocol in self.open_on_start:
            await self.open_session(protocol)
        self._start_queue()
        if self.relays and not self.remotes:
            # Until a conversation comes, the view could only show mailsim's own store.
            self.main.show_mailboxes(False)
        for address in self.remotes:
            await self.open_session(address.protocol, address=address)
        for relay in self.relays:
            try:
                host, port = await relay.start(self.bus)
            except OSError as exc:
                self.notify(self.strings("notify.listen-failed", error=str(exc)), severity="error")
                continue
            self.notify(self.strings("connect.watching", listen=f"{host}:{port}", target=f"{relay.target.host}:"
                                     f"{relay.target.port}", protocol=relay.protocol.value.upper()), timeout=10)
        if self.listen_on_start:
            await self.start_listening()

    def _start_queue(self) -> None:
        """Mail queued for another domain is relayed on this loop, as it falls due."""
        from mailsim.protocol.relay import QueueRunner
        from mailsim.transport.queue import QueueScheduler

        current = self.queue_scheduler
        if current is not None and current.store is self.store:  # type: ignore[attr-defined]
            return
        if current is not None:  # a lesson brought a store of its own
            current.stop()  # type: ignore[attr-defined]
        scheduler = QueueScheduler(QueueRunner(self.store, self.bus.publish))
        scheduler.start()
        self.queue_scheduler = scheduler

    async def on_unmount(self) -> None:
        if self.queue_scheduler is not None:
            self.queue_scheduler.stop()  # type: ignore[attr-defined]
        await self.stop_listening()
        for relay in self.relays:
            await relay.stop()
        for model in self.sessions.values():
            if model.connection is not None:
                model.connection.hang_up()
        self._unsubscribe()

    # -- sessions ----------------------------------------------------------------------------

    async def open_session(
        self,
        protocol: Protocol | str,
        *,
        right: bool = False,
        address: ServerAddress | None = None,
        implicit_tls: bool = False,
    ) -> SessionModel:
        """A console session: to the in-process engine (with TLS from the first byte
        when `implicit_tls`), or over TCP to `address`."""
        protocol = Protocol(protocol)
        self._counter += 1
        session_id = f"{'connect' if address else 'console'}-{protocol.value}-{self._counter}"
        engine = self.engines.get(protocol)
        model = SessionModel(session_id, protocol, engine, number=self._counter,
                             peer=f"{address.host}:{address.port}" if address else "")
        self.sessions[session_id] = model
        await self.main.add_session(model, right=right)
        connection: Connection | None = None
        if address is not None:
            from mailsim.transport.client import RemoteConnection

            connection = RemoteConnection(address, self.bus, session_id=session_id, clock=self.clock)
        elif engine is not None:
            connection = ConsoleConnection(
                engine, self.store, self.bus, session_id=session_id, schedule=self._schedule,
                clock=self.clock, ids=self.ids, implicit_tls=implicit_tls,
            )
        if connection is not None:
            model.connection = connection
            if isinstance(connection, ConsoleConnection):
                connection.on_wire = model.wire  # the encrypted octets, for the byte view
            connection.open()
        self._flush_views()
        return model

    def seen_of(self, model: SessionModel | None) -> SeenMailboxes | None:
        """A session with another server: its mailboxes as its dialog showed them."""
        if model is None:
            return None
        session = getattr(model.connection, "session", None)
        if session is None:
            session = next((r.observers[model.session_id] for r in self.relays if model.session_id in r.observers), None)
        return getattr(session, "seen", None)

    def _schedule(self, seconds: float, callback) -> object:
        if seconds <= 0:  # "on the next turn" (IDLE output): a zero-interval timer cannot run
            return self.call_later(callback)
        return self.set_timer(seconds, callback)

    async def close_session(self, session_id: str) -> None:
        model = self.sessions.get(session_id)
        if model is None:
            return
        if model.connection is not None:
            model.connection.hang_up()  # its Closed event still reaches the model
        del self.sessions[session_id]
        self._dirty.pop(session_id, None)
        await self.main.remove_session(session_id)

    def send(self, session_id: str, line: str) -> None:
        """Send one typed line to a console session."""
        model = self.sessions.get(session_id)
        if model is None or model.connection is None or model.closed:
            return
        model.connection.send_line(line)

    def _on_event(self, event: Event) -> None:
        """Bus subscriber: route every event to its session's model, then redraw soon."""
        model = self.sessions.get(event.session_id)
        if model is None:
            if not isinstance(event, Connected):
                return
            self._counter += 1
            model = SessionModel(event.session_id, event.protocol, self.engines.get(event.protocol),
                                 number=self._counter, read_only=True, peer=event.peer)
            self.sessions[event.session_id] = model
            self.call_later(self._add_remote, model)
        if isinstance(event, Note) and self.explainer.note_once(event.protocol, event.key):
            if (event.protocol, event.key) in self._notes_once:
                return  # read in an earlier session of this app (the recording still has it)
            self._notes_once.add((event.protocol, event.key))
        model.apply(event)
        if isinstance(event, DeletionMarked):
            self._show_deletion_mark(event)
        self._dirty[event.session_id] = None
        if not self._flush_pending:
            self._flush_pending = True
            self.call_later(self._flush_views)

    def _show_deletion_mark(self, event: DeletionMarked) -> None:
        """POP3 DELE / RSET: the mailbox view strikes the message through or restores it."""
        try:
            view = self.main.mailbox_view
        except LookupError:
            return
        view.show_deletion_mark(event.account, event.mailbox, event.uid, event.marked)

    async def _add_remote(self, model: SessionModel) -> None:
        await self.main.add_session(model, activate=False)
        if model.hop is None:  # a relay session is announced by the console line that queued it
            self.notify(self.strings("notify.remote", protocol=model.protocol.value.upper(), peer=model.peer))
        self._dirty[model.session_id] = None
        self._flush_views()

    def _flush_views(self) -> None:
        self._flush_pending = False
        dirty, self._dirty = self._dirty, {}
        try:
            main = self.main
        except LookupError:
            return
        for session_id in dirty:
            model = self.sessions.get(session_id)
            if model is not None:
                main.refresh_session(model)

    # -- TCP servers for real clients ---------------------------------------------------------

    async def start_listening(self) -> None:
        from mailsim.protocol.base import SessionConfig
        from mailsim.transport.tcp import ServerOptions
        from mailsim.transport.world import DEFAULT_SUBMISSION_PORT, WorldOptions, WorldServers

        if self.servers is not None:
            return
        options: ServerOptions = self.server_options or ServerOptions(  # type: ignore[assignment]
            session_config=SessionConfig(hostname=self.store.domain))
        smtp_port = options.ports.get(Protocol.SMTP)
        # Every domain's servers, as `mailsim serve` runs them; the queue is already ours.
        world = WorldOptions(
            submission_port=None if smtp_port is None else (DEFAULT_SUBMISSION_PORT if smtp_port else 0),
            other_domains=smtp_port is not None, run_queue=False,
        )
        servers = WorldServers(self.store, self.bus, options, world)
        try:
            listeners = await servers.start()
        except OSError as exc:
            await servers.stop()
            self.notify(self.strings("notify.listen-failed", error=str(exc)), severity="error")
            return
        self.listening = {item.protocol: (item.host, item.port) for item in listeners if item.label == self.store.domain}
        self.other_listeners = [item for item in listeners if item.label != self.store.domain]
        self.servers = servers
        self.sub_title = self._sub_title()
        self.notify(self.strings("notify.listening", ports=self._ports_text()))

    def _ports_text(self) -> str:
        home = [f"{p.value.upper()} {host}:{port}" for p, (host, port) in self.listening.items()]
        others = [f"{item.label} {item.host}:{item.port}" for item in getattr(self, "other_listeners", [])]
        return ", ".join(home + others)

    async def stop_listening(self) -> None:
        servers, self.servers = self.servers, None
        if servers is not None:
            await servers.stop()  # type: ignore[attr-defined]
            self.listening = {}
            self.sub_title = self._sub_title()

    # -- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "compose":
            model = self.active_model()
            return bool(model and not model.read_only and (model.multiline or self._literal_editor_allowed(model)))
        if action == "close_session":
            return self.active_model() is not None
        return True

    def active_model(self) -> SessionModel | None:
        try:
            session_id = self.main.active_session
        except LookupError:
            return None
        return self.sessions.get(session_id) if session_id else None

    async def action_open_session(self, protocol: str) -> None:
        if not self.remotes:
            await self.open_session(protocol)
            return
        # `mailsim connect`: one more session to the server given for this protocol.
        address = next((a for a in self.remotes if a.protocol.value == protocol), None)
        if address is None:
            self.notify(self.strings("connect.no-server", protocol=protocol.upper(), scheme=protocol), severity="warning")
            return
        await self.open_session(protocol, address=address)

    async def action_open_tls_session(self, protocol: str) -> None:
        """A session encrypted from the first byte, as on the SMTPS/POP3S/IMAPS ports."""
        await self.open_session(protocol, implicit_tls=True)

    async def action_close_session(self) -> None:
        model = self.active_model()
        if model is not None:
            await self.close_session(model.session_id)

    async def action_split(self) -> None:
        await self.main.toggle_split()

    def action_cycle(self, step: int) -> None:
        self.main.cycle(step)

    def action_toggle_mailboxes(self) -> None:
        self.main.toggle_mailboxes()

    def action_toggle_bytes(self) -> None:
        self.show_bytes = not self.show_bytes
        for view in self.main.panes():
            if view.transcript is not None:
                view.transcript.show_bytes = self.show_bytes
        self.notify(self.strings("notify.bytes-on" if self.show_bytes else "notify.bytes-off"), timeout=2)

    def action_toggle_language(self) -> None:
        self.set_language("es" if self.lang == "en" else "en")

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME

    async def action_toggle_listen(self) -> None:
        if self.servers is None:
            await self.start_listening()
        else:
            await self.stop_listening()
            self.notify(self.strings("notify.stopped"))

    def action_help(self) -> None:
        from mailsim.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.strings, self.key_list()))

    def action_compose(self) -> None:
        from mailsim.ui.screens.compose import ComposeScreen, body_lines

        model = self.active_model()
        if model is not None and not model.read_only and self._literal_editor_allowed(model):
            self._compose_literal(model)
            return
        if model is None or not model.multiline:
            return
        envelope = model.envelope
        template = self.strings(
            "compose.template",
            sender=getattr(envelope, "sender", "") or "",
            recipients=", ".join(getattr(envelope, "recipients", []) or []),
        )
        session_id = model.session_id

        def sent(text: str | None) -> None:
            if text is None:
                return
            for line in body_lines(text):
                self.send(session_id, line)

        self.push_screen(ComposeScreen(self.strings, template), sent)

    @staticmethod
    def _literal_editor_allowed(model: SessionModel) -> bool:
        """IMAP: Ctrl+O writes a literal, whenever a command can be typed."""
        return model.protocol is Protocol.IMAP and not model.closed and model.state not in ("idle", "logout")

    def _compose_literal(self, model: SessionModel) -> None:
        """The editor writes the literal of the command on the input line (see ui/literal.py)."""
        from mailsim.ui.screens.compose import ComposeScreen

        pane = self.main.pane(model.session_id)
        command_input = pane.command_input if pane is not None else None
        command = LiteralCommand.from_typed(command_input.value if command_input is not None else "")
        t = self.strings
        template = ""
        if command.is_message:
            user = getattr(model.connection.session, "user", "") if model.connection is not None else ""
            template = t("compose.literal-template", sender=f"{user}@{self.store.domain}" if user else "")

        def preview(text: str) -> str:
            shown = t("compose.literal-sends", line=command.first_line(text))
            if command.tail:
                shown += "  " + t("compose.literal-after", octets=len(command.literal(text)), tail=command.tail)
            return shown

        def written(text: str | None) -> None:
            if text is None:
                return
            if command_input is not None:
                command_input.remember(command.first_line(text))
                command_input.value = ""
            self.call_later(self._send_literal, model.session_id, command, text)

        self.push_screen(ComposeScreen(t, template, title=t("compose.literal-title"), intro=t("compose.literal-intro"),
                                       preview=preview), written)

    async def _send_literal(self, session_id: str, command: LiteralCommand, text: str) -> None:
        """The command line with {n}; the lines after the server's "+", as telnet sends them."""
        import asyncio

        model = self.sessions.get(session_id)
        if model is None or model.connection is None:
            return
        before = len(model.replies)
        self.send(session_id, command.first_line(text))
        while model.connection.busy:  # a reply held back (a failed login's delay)
            await asyncio.sleep(0.05)
        if not any(reply.code == "+" for reply in model.replies[before:]):
            self.notify(self.strings("notify.literal-refused"), severity="warning")
            return
        for line in command.lines_after(text):
            self.send(session_id, line)

    def action_screenshot(self) -> None:
        path = self.save_screenshot()
        self.notify(self.strings("notify.screenshot", path=path))

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=self.strings("palette.placeholder")))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        t = self.strings
        for protocol in Protocol:
            yield SystemCommand(t("palette.open", protocol=protocol.value.upper()), t("palette.open-help"),
                                lambda p=protocol: self.run_action(f"open_session('{p.value}')"))
        for protocol in Protocol:
            yield SystemCommand(t("tls.palette-open", protocol=protocol.value.upper()), t("tls.palette-open-help"),
                                lambda p=protocol: self.run_action(f"open_tls_session('{p.value}')"))
        entries = [
            ("palette.close", "close_session"),
            ("palette.split", "split"),
            ("palette.mailboxes", "toggle_mailboxes"),
            ("palette.bytes", "toggle_bytes"),
            ("palette.language", "toggle_language"),
            ("palette.theme", "toggle_theme"),
            ("palette.listen", "toggle_listen"),
            ("palette.help", "help"),
            ("palette.screenshot", "screenshot"),
            ("palette.quit", "quit"),
        ]
        for key, action in entries:
            yield SystemCommand(t(key), t(key + "-help"), lambda a=action: self.run_action(a))
        yield SystemCommand(t("relay.palette-queue"), t("relay.palette-queue-help"), lambda: self.run_action("queue"))
        yield SystemCommand(t("relay.palette-path"), t("relay.palette-path-help"), lambda: self.run_action("path"))
        from mailsim.ui.inspector.texts import Texts

        texts = Texts(self.lang)
        yield SystemCommand(texts("ui.palette-inspect"), texts("ui.palette-inspect-help"),
                            lambda: self.run_action("inspect_session"))
        yield SystemCommand(texts("ui.palette-composer"), texts("ui.palette-composer-help"),
                            lambda: self.run_action("new_message"))
        from mailsim.ui.replay.palette import replay_commands

        yield from replay_commands(self, self.lang)
        from mailsim.ui.lessons.start import palette_commands

        yield from palette_commands(self, screen)

    # -- messages from the widgets ---------------------------------------------------------------

    def on_session_pane_line_entered(self, message: SessionPane.LineEntered) -> None:
        self.send(message.pane.model.session_id, message.line)

    def on_mailbox_view_message_chosen(self, message: MailboxView.MessageChosen) -> None:
        self.open_message(message.account, message.mailbox, message.uid)

    def on_mailbox_view_path_requested(self, message: MailboxView.PathRequested) -> None:
        self.show_path(message.account, message.mailbox, message.uid)

    def show_path(self, account: str, mailbox: str, uid: int) -> None:
        """The path a stored message took (its Received: lines and the queue's record)."""
        from mailsim.ui.screens.path import PathScreen

        try:
            message = self.store.mailbox(account, mailbox).by_uid(uid)
        except Exception:
            return
        if message is not None:
            self.push_screen(PathScreen(message.raw, title=f"{account}/{mailbox} UID {uid}",
                                        entries=self.store.queue.entries, lang=self.lang))

    def action_path(self) -> None:
        """The path of the message selected in the mailbox view."""
        try:
            chosen = self.main.mailbox_view.cursor_message()
        except LookupError:
            return
        if chosen is not None:
            self.show_path(*chosen)

    def action_queue(self) -> None:
        """F12: the domains, the DNS and the outgoing queue."""
        from mailsim.ui.screens.queue import QueueScreen

        if isinstance(self.screen, QueueScreen):
            return
        scheduler = self.queue_scheduler
        self.push_screen(QueueScreen(self.store, lang=self.lang,
                                     fast_forward=getattr(scheduler, "fast_forward", None)))

    def open_message(self, account: str, mailbox: str, uid: int) -> None:
        """Open a stored message in the MIME inspector."""
        from mailsim.ui.inspector.hooks import inspect_stored

        inspect_stored(self, account, mailbox, uid)

    def action_inspect_session(self) -> None:
        """The inspector on the message the active session last sent (DATA),
        retrieved (RETR/TOP) or fetched (FETCH: the stored message, at the part named)."""
        from mailsim.ui.fetched import fetch_offer, fetched_part
        from mailsim.ui.inspector.from_session import last_message
        from mailsim.ui.inspector.hooks import inspect_session, inspect_stored_section

        open_offered = getattr(self.screen, "open_offered", None)  # a lesson announced a message
        if open_offered is not None and open_offered():
            return
        model = self.active_model()
        fetched = fetched_part(model)
        if fetched is not None:
            title = f"{fetched.account}/{fetched.mailbox} UID {fetched.message.uid} · {fetched.command}"
            inspect_stored_section(self, fetched.message.raw, fetched.section, title)
            return
        offer = fetch_offer(model) if model is not None and last_message(model.protocol, model.lines) is None else None
        pane = self.main.pane(model.session_id) if offer is not None else None
        command = pane.command_input if pane is not None else None
        if offer is not None and command is not None and not command.value:
            # Nothing to open yet: the command that gets a message, typed for the student.
            command.value = offer
            command.cursor_position = len(offer)
            command.focus()
            self.notify(self.strings("notify.fetch-offer", command=offer), timeout=8)
            return
        inspect_session(self, model)

    def action_new_message(self) -> None:
        """The composer; what it sends goes through a new SMTP console session."""
        from mailsim.ui.composer.hooks import open_composer

        open_composer(self)


def make_app(
    store: MailStore | None = None,
    *,
    lang: str | None = "en",
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    listen: bool = False,
    server_options: object | None = None,
    open_on_start: Sequence[Protocol | str] = (Protocol.SMTP,),
    cursor_blink: bool = True,
    dark: bool = True,
    bus: Bus | None = None,
    engines: Mapping[Protocol, type] | None = None,
    remotes: Sequence[ServerAddress] = (),
    relays: Sequence[WatchRelay] = (),
    highlight_clock: Callable[[], float] = time.monotonic,
) -> MailsimApp:
    """The app on `store` (default: the embedded default world)."""
    if store is None:
        from mailsim.store.world import build_store

        store = build_store(clock=clock, ids=ids)
    app = MailsimApp(
        store,
        lang=lang or default_language(),
        clock=clock,
        ids=ids,
        bus=bus,
        listen=listen,
        server_options=server_options,
        open_on_start=tuple(Protocol(p) for p in open_on_start),
        cursor_blink=cursor_blink,
        dark=dark,
        engines=engines,
        remotes=remotes,
        relays=relays,
        highlight_clock=highlight_clock,
    )
    app.lang_from_locale = not lang
    return app


def run_app(
    store: MailStore,
    *,
    lang: str | None = None,
    listen: bool = False,
    record: bool = True,
    remotes: Sequence[ServerAddress] = (),
    relays: Sequence[WatchRelay] = (),
) -> int:
    """`mailsim`: the app on the store the command line built. Returns the exit code.

    Every session is recorded (into the user data directory) unless `record` is off,
    so it can be replayed step by step with `mailsim replay`.
    """
    from mailsim.clock import SimulatedClock

    if not hasattr(store.clock, "advance"):
        store.clock = SimulatedClock(store.clock)  # so the queue can fast-forward to a retry
    opens = () if remotes or relays else (Protocol.SMTP,)
    app = make_app(store, lang=lang, listen=listen, remotes=remotes, relays=relays, open_on_start=opens)
    recording = None
    if record:
        from mailsim.transcript.recorder import start_recording

        try:
            from mailsim.ui.console import console_config

            recording = start_recording(store, app.bus, source="app", config=console_config(store))
        except OSError:
            recording = None  # a read-only home must not stop the lab
    try:
        result = app.run()
    finally:
        if recording is not None:
            recording.stop()
    if recording is not None:
        print(app.strings("exit.recorded", path=str(recording.path)))
    return result if isinstance(result, int) else 0
