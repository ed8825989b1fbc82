"""Shared fixtures: a store on the default world, and the real TCP servers on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from running_servers import RunningServers, start_servers

from mailsim.clock import FixedClock, SequentialIds
from mailsim.store.store import MailStore
from mailsim.store.world import build_store


@pytest.fixture
def store() -> MailStore:
    """The default world, with a fixed clock and predictable ids."""
    return build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("Q"))


@pytest.fixture
def servers(store: MailStore) -> Iterator[RunningServers]:
    yield from start_servers(store)
