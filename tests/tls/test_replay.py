"""A recording with TLS replays without differences: replay has no sockets, so an
upgrade is taken as done (a TlsStarted event marked `simulated`), and the session goes
on exactly as recorded; the encrypted octets were never recorded, only what they carried."""

from __future__ import annotations

import imaplib
import smtplib
import time
from pathlib import Path

import pytest

from mailsim.events import Protocol, TlsStarted
from mailsim.store.world import build_store
from mailsim.transcript.recorder import start_recording
from mailsim.transcript.replay import Replay
from running_servers import start_servers

from .conftest import implicit_port

pytestmark = pytest.mark.network


def test_starttls_and_implicit_tls_sessions_replay_cleanly(material, trusting, tmp_path: Path):
    path = tmp_path / "tls.jsonl"
    for servers in start_servers(build_store(), tls=material, implicit_tls_ports={Protocol.IMAP: 0}):
        recording = start_recording(servers.store, servers.bus, path, source="test", config=servers.servers.session_config)
        with smtplib.SMTP("localhost", servers.smtp, timeout=10) as client:
            client.starttls(context=trusting)
            client.login("alice", "wonderland")
            client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], b"Subject: sealed\r\n\r\nsecret\r\n")
        client = imaplib.IMAP4_SSL("localhost", implicit_port(servers, Protocol.IMAP), ssl_context=trusting, timeout=10)
        client.login("bob", "builder")
        client.select("INBOX")
        client.logout()
        deadline = time.monotonic() + 5
        while servers.servers.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        servers.call(lambda: None)
        recording.stop()
    replay = Replay.load(path)
    assert replay.differences == []
    replayed = [e for step in replay.steps for e in step.events if isinstance(e, TlsStarted)]
    assert [(e.protocol, e.implicit, e.simulated) for e in replayed] == [
        (Protocol.SMTP, False, True), (Protocol.IMAP, True, True),
    ]


def test_a_console_session_upgraded_with_starttls_replays_cleanly(tmp_path: Path):
    from mailsim.protocol.smtp import SmtpSession
    from mailsim.transcript.bus import Bus
    from mailsim.ui.console import ConsoleConnection, console_config

    store = build_store()
    bus = Bus()
    path = tmp_path / "console.jsonl"
    recording = start_recording(store, bus, path, source="app", config=console_config(store))
    connection = ConsoleConnection(SmtpSession, store, bus, session_id="console-smtp-1", schedule=lambda s, f: f())
    connection.open()
    for line in ("EHLO aula.example", "STARTTLS", "EHLO aula.example", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=", "QUIT"):
        connection.send_line(line)
    recording.stop()
    replay = Replay.load(path)
    assert replay.differences == [] and replay.warnings == []
