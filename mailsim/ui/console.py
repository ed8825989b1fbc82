"""The in-app console: a transport that drives an engine session directly.

It feeds the engine exactly the bytes telnet would send (the typed line plus CRLF) and
publishes the session's events on the Bus, as the TCP transport does for sockets. A
reply the engine wants delayed (a failed login) is held for that long, and input typed
meanwhile waits its turn, like a socket whose reading is paused. No Textual here: the
app hands in `schedule(seconds, callback)`.
"""

from __future__ import annotations

from collections.abc import Callable

from mailsim.clock import Clock, IdGenerator
from mailsim.events import ClientLine, Event
from mailsim.protocol.base import CRLF, Session
from mailsim.store.store import MailStore
from mailsim.transcript.bus import Bus

Schedule = Callable[[float, Callable[[], None]], object]

CONSOLE_PEER = "console"


class ConsoleConnection:
    def __init__(
        self,
        engine: type[Session],
        store: MailStore,
        bus: Bus,
        *,
        session_id: str,
        schedule: Schedule,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
    ) -> None:
        self.session = engine(store, session_id=session_id, peer=CONSOLE_PEER, clock=clock, ids=ids)
        # Output nobody typed for (IMAP IDLE woken by a delivery): shown on the next
        # turn, after the command that caused it has been shown.
        self.session.on_output = lambda: self._schedule(0, self._flush_if_open)
        self.bus = bus
        self._schedule = schedule
        self._holding = False
        self._held: list[Event] = []
        self._waiting: list[bytes] = []

    @property
    def closed(self) -> bool:
        return self.session.closed

    @property
    def busy(self) -> bool:
        """True while a deliberately delayed reply is being held back."""
        return self._holding

    def open(self) -> None:
        self.session.start()
        self._flush()

    def send_line(self, text: str) -> None:
        """Send one typed line, as telnet does: its UTF-8 bytes and CRLF."""
        self.send_bytes(text.encode("utf-8") + CRLF)

    def send_bytes(self, data: bytes) -> None:
        if self._holding:
            self._waiting.append(data)
            return
        self.session.receive_data(data)
        self._flush()

    def hang_up(self) -> None:
        """The student closed the tab: to the server, the client went away."""
        if not self.session.closed:
            self.session.receive_eof()
            self._flush()

    def _flush(self) -> None:
        events = self.session.events()
        self.session.data_to_send()  # the console's "socket": the events already show it
        delay = self.session.take_delay()
        if delay <= 0 and not self._holding:
            self.bus.publish_all(events)
            return
        # What the client sent is on screen at once; the server's answer waits.
        while events and isinstance(events[0], ClientLine) and not self._holding:
            self.bus.publish(events.pop(0))
        self._held.extend(events)
        if not self._holding:
            self._holding = True
            self._schedule(delay, self._release)

    def _flush_if_open(self) -> None:
        if not self._holding:
            self._flush()

    def _release(self) -> None:
        self._holding = False
        held, self._held = self._held, []
        self.bus.publish_all(held)
        while self._waiting and not self._holding:
            self.send_bytes(self._waiting.pop(0))
