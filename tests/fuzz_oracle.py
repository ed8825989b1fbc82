"""The fuzz oracle the engines' hypothesis tests share: a handler bug is caught and
answered with the protocol's "local error" reply so the session lives on — which a
later NOOP OK would hide — so any reply keyed `server-bug` fails the test."""

from __future__ import annotations

from collections.abc import Iterable

from mailsim.events import Event, Reply


def server_bugs(events: Iterable[Event]) -> list[Reply]:
    return [event for event in events if isinstance(event, Reply) and event.key == "server-bug"]


def assert_no_server_bug(events: Iterable[Event], sent: bytes) -> None:
    bugs = server_bugs(events)
    assert not bugs, f"a handler failed on {sent!r}: {bugs[0].text} (see the log for the traceback)"
