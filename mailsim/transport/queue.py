"""The outgoing queue on the event loop: a timer for the next due attempt.

The queue (`store/queue.py`) and its runner (`protocol/relay.py`) only know "what is
due at time T" and "run it"; this is the only place that waits. It wakes when a
message is queued and when the next retry is due, and can fast-forward: move the
world's clock to the next retry and run it at once.
"""

from __future__ import annotations

import asyncio

from mailsim.protocol.relay import QueueRunner
from mailsim.store.changes import MessageQueued, StoreChange


class QueueScheduler:
    def __init__(self, runner: QueueRunner) -> None:
        self.runner = runner
        self.store = runner.store
        self._timer: asyncio.TimerHandle | None = None
        self._unsubscribe = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Begin watching the store; must run inside the event loop."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.store.subscribe(self._on_change)
        self.reschedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_change(self, change: StoreChange) -> None:
        # Queued from inside an SMTP command (end of DATA): relay on the next turn,
        # after the 250 that accepted it, as a real MTA's queue manager would.
        if isinstance(change, MessageQueued) and self._loop is not None:
            self._loop.call_soon(self.reschedule)

    def reschedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self.store.queue.next_due()
        if due is None or self._loop is None:
            return
        delay = max(due - self.store.clock.now(), 0.0)
        self._timer = self._loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.runner.run_due()
        self.reschedule()

    def fast_forward(self) -> float:
        """Advance the world's clock to the next due attempt and run what is due then.
        Returns the seconds skipped (0 when nothing waits or it was due already)."""
        due = self.store.queue.next_due()
        if due is None:
            return 0.0
        gap = max(due - self.store.clock.now(), 0.0)
        advance = getattr(self.store.clock, "advance", None)
        if gap > 0 and advance is not None:
            advance(gap)
        self.runner.run_due(max(self.store.clock.now(), due))
        self.reschedule()
        return gap
