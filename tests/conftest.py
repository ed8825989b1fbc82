"""Shared fixtures: a store on the default world, and the real TCP servers on free ports;
`async def` tests run on a fresh event loop (no async plugin is a test dependency)."""

from __future__ import annotations

import asyncio
import inspect
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


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True
