"""Maildir persistence: what is delivered survives a restart with the same UIDs."""

from __future__ import annotations

import mailbox
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailsim.store.maildir import attach_maildir, folder_name, mailbox_name
from mailsim.store.world import build_store


def test_folder_names_round_trip() -> None:
    for name in ["Archive", "Archive/2025", "v1.2", "100%"]:
        assert mailbox_name(folder_name(name)) == name
    assert folder_name("Archive/2025") == "Archive.2025"


def test_seed_then_reload_keeps_uids_flags_and_dates(tmp_path: Path) -> None:
    store = build_store()
    attach_maildir(store, tmp_path)
    inbox = store.mailbox("alice", "INBOX")
    expected = [(m.uid, m.raw, sorted(m.flags), int(m.internal_date.timestamp())) for m in inbox.messages]
    uidvalidity = inbox.uidvalidity
    # A standard Maildir reader sees the same messages and flags.
    md = mailbox.Maildir(tmp_path / "alice", create=False)
    assert len(md) == len(expected)
    assert "Archive.2025" in md.list_folders()

    reloaded = build_store()
    attach_maildir(reloaded, tmp_path)
    again = reloaded.mailbox("alice", "INBOX")
    assert again.uidvalidity == uidvalidity
    assert [(m.uid, m.raw, sorted(m.flags), int(m.internal_date.timestamp())) for m in again.messages] == expected
    assert reloaded.mailbox("alice", "Sent").special_use == "\\Sent"


def test_changes_are_written_through(tmp_path: Path) -> None:
    store = build_store()
    attach_maildir(store, tmp_path)
    new = store.append("bob", "INBOX", b"Subject: new\r\n\r\nbody\r\n")
    store.set_flags("bob", "INBOX", new.uid, {"\\Seen", "\\Flagged", "$Label1"})
    first = store.mailbox("bob", "INBOX").messages[0].uid
    store.expunge("bob", "INBOX", [first])
    store.create_mailbox("bob", "Projects/mailsim", subscribed=True)
    store.append("bob", "Projects/mailsim", b"Subject: in folder\r\n\r\nx\r\n")
    store.rename_mailbox("bob", "Projects", "Work")

    reloaded = build_store()
    attach_maildir(reloaded, tmp_path)
    inbox = reloaded.mailbox("bob", "INBOX")
    assert first not in [m.uid for m in inbox.messages]
    last = inbox.messages[-1]
    assert (last.uid, last.raw) == (new.uid, b"Subject: new\r\n\r\nbody\r\n")
    assert last.flags == {"\\Seen", "\\Flagged", "$Label1"}
    assert inbox.uidnext == new.uid + 1
    assert [m.raw for m in reloaded.mailbox("bob", "Work/mailsim").messages] == [b"Subject: in folder\r\n\r\nx\r\n"]
    assert reloaded.mailbox("bob", "Work/mailsim").subscribed
    md = mailbox.Maildir(tmp_path / "bob", create=False)
    flags = {md.get_message(key).get_flags() for key in md.keys()}
    assert "FS" in flags


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(store_dir: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--store", str(store_dir), "--smtp-port", str(port),
         "--pop3-port", "0", "--imap-port", "0", "--no-tls", "--submission-port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("mailsim serve did not start: " + (process.stdout.read() if process.stdout else ""))


@pytest.mark.network
def test_deliver_restart_message_still_there(tmp_path: Path) -> None:
    """The issue's acceptance: deliver with --store, restart, same message, same UID."""
    store_dir = tmp_path / "mail"
    port = _free_port()
    server = _serve(store_dir, port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], b"Subject: persist me\r\n\r\nstill here\r\n")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert server.returncode == 0, output
    reloaded = build_store()
    attach_maildir(reloaded, store_dir)
    last = reloaded.mailbox("bob", "INBOX").messages[-1]
    assert last.raw.endswith(b"Subject: persist me\r\n\r\nstill here\r\n")
    uid = last.uid

    server = _serve(store_dir, port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("alice@mailsim.test", ["bob@mailsim.test"], b"Subject: second\r\n\r\nx\r\n")
    finally:
        server.terminate()
        server.communicate(timeout=10)
    reloaded = build_store()
    attach_maildir(reloaded, store_dir)
    uids = [m.uid for m in reloaded.mailbox("bob", "INBOX").messages]
    assert uid in uids and uids[-1] == uid + 1
