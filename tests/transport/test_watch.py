"""`mailsim watch`: real clients through the relay to a real server; what it recorded replays."""

from __future__ import annotations

import asyncio
import imaplib
import shutil
import subprocess
from pathlib import Path

import pytest

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import ClientLine, Closed, Connected, Event, Note, Protocol, Reply, StateChanged
from mailsim.protocol.base import SessionConfig
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus
from mailsim.transcript.recorder import start_recording
from mailsim.transcript.replay import Replay
from mailsim.transport.client import ServerAddress
from mailsim.transport.tap import WatchRelay
from mailsim.transport.tcp import MailServers, ServerOptions


async def watched(tmp_path: Path, protocol: Protocol, client, *, target_port: int | None = None) -> list[Event]:
    """Run `client(host, port)` in a thread against a relay in front of mailsim's server;
    the relay's events are recorded in tmp_path/watch.jsonl with the server's world."""
    store = build_store(clock=FixedClock(1_790_000_000.0), ids=SequentialIds("W"))
    options = ServerOptions(ports={protocol: 0}, session_config=SessionConfig(hostname=store.domain, auth_failure_delay=0))
    servers = MailServers(store, Bus(), options)
    addresses = await servers.start()
    bus = Bus()
    events: list[Event] = []
    bus.subscribe(events.append)
    recording = start_recording(store, bus, tmp_path / "watch.jsonl", source="watch")
    host, port = addresses[protocol]
    relay = WatchRelay(ServerAddress(protocol, host, target_port or port), bus, clock=store.clock, connect_timeout=2)
    listen_host, listen_port = await relay.start()
    try:
        await asyncio.to_thread(client, listen_host, listen_port)
        await asyncio.wait_for(relay.quiet(), 5)
    finally:
        await relay.stop()
        await servers.stop()
        recording.stop()
    return events


def imaplib_session(host: str, port: int) -> None:
    with imaplib.IMAP4(host, port) as imap:
        imap.login("alice", "wonderland")
        imap.select("INBOX")
        imap.fetch("1:2", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        imap.store("1", "+FLAGS", "(\\Flagged)")
        imap.append("INBOX", None, None, b"Subject: through the relay\r\n\r\nhello\r\n")
        imap.uid("SEARCH", "ALL")
        imap.close()


def test_imaplib_through_the_relay_is_explained_recorded_and_replays(tmp_path: Path) -> None:
    events = asyncio.run(watched(tmp_path, Protocol.IMAP, imaplib_session))
    session = events[0].session_id
    assert session.startswith("watch-imap-") and isinstance(events[0], Connected)
    states = [(e.old, e.new) for e in events if isinstance(e, StateChanged)]
    assert states == [("not authenticated", "authenticated"), ("authenticated", "selected"),
                      ("selected", "authenticated"), ("authenticated", "logout")]
    commands = [r.command for r in events if isinstance(r, Reply) and r.tag]
    assert commands == ["CAPABILITY", "LOGIN", "SELECT", "FETCH", "STORE", "APPEND", "UID SEARCH", "CLOSE", "LOGOUT"]
    assert any(e.line_kind == "literal" and e.verb == "APPEND" for e in events if isinstance(e, ClientLine))
    assert isinstance(events[-1], Closed) and events[-1].reason == "client logged out"
    replay = Replay.load(tmp_path / "watch.jsonl")
    assert replay.steps and replay.differences == []


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_pop3_through_the_relay(tmp_path: Path) -> None:
    def curl(host: str, port: int) -> None:
        out = subprocess.run(["curl", "-s", "--max-time", "10", "-u", "bob:builder", f"pop3://{host}:{port}/1"],
                             capture_output=True, check=True)
        assert b"Subject:" in out.stdout

    events = asyncio.run(watched(tmp_path, Protocol.POP3, curl))
    # curl logs in with AUTH PLAIN (RFC 5034), as the engine shows it: through AUTH.
    assert [(e.old, e.new) for e in events if isinstance(e, StateChanged)] == [
        ("authorization", "auth"), ("auth", "authorization"), ("authorization", "transaction"),
        ("transaction", "update")]
    assert [r.command for r in events if isinstance(r, Reply)][-2:] == ["RETR", "QUIT"]
    assert Replay.load(tmp_path / "watch.jsonl").differences == []


def test_a_server_that_is_not_there(tmp_path: Path) -> None:
    def client(host: str, port: int) -> None:
        with pytest.raises((imaplib.IMAP4.abort, ConnectionError, EOFError, OSError)):
            imaplib.IMAP4(host, port, timeout=5)

    events = asyncio.run(watched(tmp_path, Protocol.IMAP, client, target_port=1))
    assert [e.key for e in events if isinstance(e, Note)] == ["dialog.refused"]
    assert isinstance(events[-1], Closed) and events[-1].reason == "connection refused"
