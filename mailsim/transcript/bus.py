"""A synchronous publish/subscribe hub for events.

Transports publish every event of every session here; views, the recorder and the
lesson runner subscribe. Delivery is synchronous and in order, so a subscriber sees a
session exactly as it happened. A failing subscriber is reported, never allowed to break
the session that published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from mailsim.events import Event

Subscriber = Callable[[Event], None]

log = logging.getLogger(__name__)


class Bus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it again."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # a broken view must not break a mail session
                log.exception("bus subscriber %r failed on %r", subscriber, event)

    def publish_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.publish(event)
