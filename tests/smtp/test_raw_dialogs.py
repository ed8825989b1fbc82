"""Raw-socket dialogs for the SMTP error paths: what a misbehaving client gets."""

from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.network


class Dialog:
    """A telnet-like client: send bytes, read one complete SMTP reply."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.greeting = self.reply()

    def reply(self) -> str:
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed: " + "".join(lines))
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line.decode())
            if len(line) < 4 or line[3:4] == b" ":
                return "\n".join(lines)

    def send(self, data: bytes | str) -> str:
        self.sock.sendall(data if isinstance(data, bytes) else data.encode() + b"\r\n")
        return self.reply()

    def closed_by_server(self) -> bool:
        self.sock.settimeout(5)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dialog(servers):
    d = Dialog(servers.smtp)
    yield d
    d.close()


def test_greeting(dialog: Dialog) -> None:
    assert dialog.greeting == "220 mailsim.test ESMTP mailsim ready"


def test_503_ordering(dialog: Dialog) -> None:
    assert dialog.send("MAIL FROM:<a@b.example>").startswith("503 5.5.1 Send EHLO")
    dialog.send("EHLO raw.example")
    assert dialog.send("RCPT TO:<bob@mailsim.test>").startswith("503 5.5.1 Need MAIL")
    assert dialog.send("DATA").startswith("503 5.5.1 Need MAIL")
    dialog.send("MAIL FROM:<a@b.example>")
    assert dialog.send("DATA").startswith("503 5.5.1 Need RCPT")


def test_500_and_501(dialog: Dialog) -> None:
    assert dialog.send("HELLO").startswith("500 5.5.2 Command not recognized: HELLO")
    assert dialog.send("EHLO").startswith("501 5.5.4")
    dialog.send("EHLO raw.example")
    assert dialog.send("MAIL FROM:bad address").startswith("501")


def test_overlong_line_then_normal_service(dialog: Dialog) -> None:
    assert dialog.send(b"EHLO " + b"a" * 5000 + b"\r\n").startswith("500 5.5.2 Line too long")
    assert dialog.send("EHLO raw.example").startswith("250-")


def test_binary_junk(dialog: Dialog) -> None:
    assert dialog.send(b"\x00\x01\x02\xff\xfe\r\n").startswith("500 5.5.2 Command line is not text")
    assert dialog.send("NOOP") == "250 2.0.0 Ok"


def test_disconnect_mid_data_delivers_nothing(servers) -> None:
    before = servers.call(lambda: len(servers.store.mailbox("bob", "INBOX").messages))
    d = Dialog(servers.smtp)
    d.send("EHLO raw.example")
    d.send("MAIL FROM:<a@b.example>")
    d.send("RCPT TO:<bob@mailsim.test>")
    assert d.send("DATA").startswith("354")
    d.sock.sendall(b"Subject: never\r\n\r\nhalf of it\r\n")
    d.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        closed = [e for e in servers.events if e.kind == "closed"]
        if closed:
            break
        time.sleep(0.02)
    assert closed and closed[-1].reason == "client closed the connection"
    assert servers.call(lambda: len(servers.store.mailbox("bob", "INBOX").messages)) == before


def test_quit_closes_connection(dialog: Dialog) -> None:
    assert dialog.send("QUIT") == "221 2.0.0 Bye"
    assert dialog.closed_by_server()


def test_connection_limit_answers_421(store) -> None:
    from running_servers import start_servers

    for running in start_servers(store, max_connections=1):
        first = Dialog(running.smtp)
        second_sock = socket.create_connection(("127.0.0.1", running.smtp), timeout=5)
        data = second_sock.recv(1000)
        assert data.startswith(b"421 4.7.0 mailsim.test Too many connections")
        assert second_sock.recv(1) == b""
        second_sock.close()
        assert first.send("NOOP") == "250 2.0.0 Ok"
        first.close()


def test_idle_timeout_answers_421(store) -> None:
    from running_servers import start_servers

    for running in start_servers(store, idle_timeout=0.3):
        d = Dialog(running.smtp)
        # Say nothing: the read waits (up to the socket's 5 s) for the server to give up.
        assert d.reply().startswith("421 4.4.2 mailsim.test Error: timeout exceeded")
        assert d.closed_by_server()
        d.close()


def test_server_stop_says_421_to_connected_clients(store) -> None:
    from running_servers import start_servers

    d = None
    for running in start_servers(store):
        d = Dialog(running.smtp)
        d.send("EHLO raw.example")
    assert d is not None
    assert d.reply().startswith("421 4.3.2")
    d.close()
