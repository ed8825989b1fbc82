"""IMAP fixtures: the real servers on free ports (from tests/conftest.py), an IMAP
port, and a raw line-level client for dialogs that real client libraries refuse
to produce (bad syntax, huge literals, deep nesting)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from mailsim.events import Protocol


@pytest.fixture
def imap_port(servers) -> int:
    return servers.ports[Protocol.IMAP]


class RawClient:
    """Sends exact bytes and reads replies up to a tagged completion."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.greeting = self.read_line()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed; pending {self.buffer!r}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        literal = re.search(rb"\{(\d+)\}$", line)
        if literal:  # keep a literal with the line that announces it
            size = int(literal.group(1))
            while len(self.buffer) < size:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed inside a literal")
                self.buffer += chunk
            line += b"\r\n" + self.buffer[:size]
            self.buffer = self.buffer[size:]
            line += self.read_line()
        return line

    def command(self, text: bytes | str, tag: str | None = None) -> list[bytes]:
        """Send one command line; return every line up to and including the tagged one."""
        data = text.encode() if isinstance(text, str) else text
        tag = tag or data.split(b" ", 1)[0].decode()
        self.send(data + b"\r\n")
        return self.until_tagged(tag)

    def until_tagged(self, tag: str) -> list[bytes]:
        lines = []
        while True:
            line = self.read_line()
            lines.append(line)
            if line.startswith(tag.encode() + b" ") or line.startswith(b"* BYE"):
                if line.startswith(tag.encode() + b" "):
                    return lines

    def closed(self) -> bool:
        """True once the server has closed the connection (after reading what is left)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buffer += chunk
        except socket.timeout:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(imap_port) -> Iterator[RawClient]:
    client = RawClient(imap_port)
    yield client
    client.close()


@pytest.fixture
def logged_in(raw: RawClient) -> RawClient:
    assert raw.command("l1 LOGIN alice wonderland")[-1].startswith(b"l1 OK")
    return raw
