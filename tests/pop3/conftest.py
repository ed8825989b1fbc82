"""POP3 test fixtures: the real servers (SMTP + POP3) on free ports of 127.0.0.1,
running on an asyncio loop in a background thread, plus a raw line client."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Event, Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.store.store import MailStore
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus
from mailsim.transport.tcp import MailServers, ServerOptions

T = TypeVar("T")
AUTH_FAILURE_DELAY = 0.05


def deterministic_store() -> MailStore:
    return build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("P"))


@dataclass
class Pop3Servers:
    store: MailStore
    smtp: int
    pop3: int
    loop: asyncio.AbstractEventLoop
    servers: MailServers
    events: list[Event] = field(default_factory=list)

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `func` on the servers' loop thread (the store is not shared across threads)."""

        async def run() -> T:
            return func(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def inbox_uids(self, account: str) -> list[int]:
        return self.call(lambda: [m.uid for m in self.store.mailbox(account, "INBOX").messages])

    def raw(self) -> "RawClient":
        return RawClient(self.pop3)

    def events_of(self, kind: type[Event]) -> list[Any]:
        return [e for e in list(self.events) if isinstance(e, kind)]


class RawClient:
    """A bare socket speaking lines, for dialogs no library would send."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8") + b"\r\n"
        self.sock.sendall(data)

    def line(self) -> bytes:
        return self.file.readline()

    def command(self, text: str) -> bytes:
        self.send(text)
        return self.line()

    def multiline(self) -> list[bytes]:
        """Lines of a multi-line body up to (not including) the '.' terminator, raw."""
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("connection closed inside a multi-line response")
            if line == b".\r\n":
                return lines
            lines.append(line)

    def at_eof(self) -> bool:
        return self.file.read() == b""

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_servers(store: MailStore, config: SessionConfig | None = None) -> Iterator[Pop3Servers]:
    bus = Bus()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    options = ServerOptions(
        ports={Protocol.SMTP: 0, Protocol.POP3: 0},
        session_config=config or SessionConfig(hostname=store.domain, auth_failure_delay=AUTH_FAILURE_DELAY),
    )

    def run() -> None:
        asyncio.set_event_loop(loop)
        servers = MailServers(store, bus, options)
        holder["servers"] = servers
        try:
            holder["addresses"] = loop.run_until_complete(servers.start())
        finally:
            ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="pop3-test-servers", daemon=True)
    thread.start()
    assert ready.wait(10), "servers did not start"
    addresses = holder["addresses"]
    running = Pop3Servers(
        store, addresses[Protocol.SMTP][1], addresses[Protocol.POP3][1], loop, holder["servers"]
    )
    bus.subscribe(running.events.append)
    try:
        yield running
    finally:
        asyncio.run_coroutine_threadsafe(running.servers.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def pop3_store() -> MailStore:
    return deterministic_store()


@pytest.fixture
def pop3_servers(pop3_store: MailStore) -> Iterator[Pop3Servers]:
    yield from run_servers(pop3_store)
