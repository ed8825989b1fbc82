"""curl's IMAP client (a third, independent implementation) against the server."""

from __future__ import annotations

import shutil
import subprocess

import pytest

CURL = shutil.which("curl") or "/usr/bin/curl"
pytestmark = pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")


def curl(port: int, path: str, *extra: str) -> str:
    result = subprocess.run(
        [CURL, "-sS", "--max-time", "10", "-u", "alice:wonderland", f"imap://127.0.0.1:{port}/{path}", *extra],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8", "replace")


def test_fetch_message_by_uid(imap_port, servers):
    text = curl(imap_port, "INBOX;UID=1")
    raw = servers.call(lambda: servers.store.mailbox("alice", "INBOX").messages[0].raw)
    assert "Subject: Welcome to the mail lab" in text
    assert text.replace("\r\n", "\n") == raw.decode("utf-8").replace("\r\n", "\n")


def test_list_mailboxes(imap_port):
    text = curl(imap_port, "")
    assert '* LIST (\\HasNoChildren \\Sent) "/" "Sent"' in text
    assert '"Archive/2025"' in text


def test_search(imap_port):
    assert curl(imap_port, "INBOX?FROM%20bob").strip() == "* SEARCH 1 3 5"
    assert curl(imap_port, "INBOX", "-X", "UID SEARCH UNSEEN").strip() == "* SEARCH 2 4 6"


def test_fetch_a_section(imap_port):
    text = curl(imap_port, "INBOX;UID=3;SECTION=1")
    assert "Content-Type" not in text and len(text) > 100
