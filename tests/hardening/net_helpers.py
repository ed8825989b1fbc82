"""Raw loopback clients for the hardening tests: connect from a chosen 127.x address,
read until a pattern, and look at the server's side of a connection."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from running_servers import RunningServers, start_servers

from mailsim.events import Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.store.store import MailStore
from mailsim.transport.limits import ServerLimits


class Client:
    """A raw client socket from `source` (any 127.x address works on Linux loopback),
    reading up to markers and keeping what came after for the next read."""

    def __init__(self, port: int, source: str = "127.0.0.1", *, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((source, 0))
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def until(self, marker: bytes, timeout: float = 10.0) -> bytes:
        """Everything up to and including `marker`; fails if the server closes first."""
        deadline = time.monotonic() + timeout
        buffer = bytearray(self.buffer)
        found = buffer.find(marker)
        while found < 0:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise AssertionError(f"closed before {marker!r}; got {bytes(buffer[-300:])!r}")
            start = max(len(buffer) - len(marker), 0)
            buffer += chunk
            found = buffer.find(marker, start)
        end = found + len(marker)
        data, self.buffer = bytes(buffer[:end]), bytes(buffer[end:])
        return data

    def to_close(self, timeout: float = 10.0) -> bytes:
        """Everything until the server closes."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                data, self.buffer = self.buffer, b""
                return data
            self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


@contextmanager
def serving(store: MailStore, *, config: SessionConfig | None = None, **options) -> Iterator[RunningServers]:
    """The three servers on free ports with the limits given (small, to stay fast)."""
    options.setdefault("limits", ServerLimits())
    config = config or SessionConfig(hostname=store.domain, auth_failure_delay=0.01)
    generator = start_servers(store, config=config, **options)
    running = next(generator)
    try:
        yield running
    finally:
        generator.close()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


def connection_stats(running: RunningServers) -> list[dict[str, int | bool | str]]:
    """Per open connection, on the server: octets waiting in the transport's write
    buffer, in the engine, and in its input buffer."""

    def collect() -> list[dict[str, int | bool | str]]:
        found = []
        for connection in running.servers.connections:
            transport, session = connection.transport, connection.session
            found.append(
                {
                    "protocol": connection.protocol.value,
                    "transport": transport.get_write_buffer_size() if transport else 0,
                    # rendered and owned by the engine, vs queued by reference (a
                    # stored message's bytes, which the store holds anyway)
                    "engine": len(session._out) if session else 0,
                    "referenced": session._bulk_size if session else 0,
                    "input": session.reader.buffered if session else 0,
                    "paused": connection._write_paused,
                }
            )
        return found

    return running.call(collect)


PORT = {"smtp": Protocol.SMTP, "pop3": Protocol.POP3, "imap": Protocol.IMAP}
