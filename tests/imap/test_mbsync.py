"""mbsync (isync), a real IMAP synchroniser, mirrors alice's folders into a Maildir."""

from __future__ import annotations

import mailbox
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("mbsync") is None, reason="mbsync (Debian package isync) is not installed"),
]

FLAG_LETTERS = {"\\Seen": "S", "\\Answered": "R", "\\Flagged": "F", "\\Deleted": "T", "\\Draft": "D"}


def test_mbsync_pulls_every_folder_with_flags(servers, imap_port: int, tmp_path: Path) -> None:
    local = tmp_path / "mail"
    local.mkdir()
    config = tmp_path / "mbsyncrc"
    config.write_text(
        f"IMAPAccount lab\nHost 127.0.0.1\nPort {imap_port}\nUser alice\nPass wonderland\n"
        "SSLType None\nAuthMechs LOGIN\n\n"
        "IMAPStore remote\nAccount lab\n\n"
        f"MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n"
        "Channel lab\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSync Pull\nSyncState *\n"
    )
    result = subprocess.run(["mbsync", "-c", str(config), "lab"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

    def expected(name: str) -> list[tuple[bytes, str]]:
        box = servers.store.mailbox("alice", name)
        return sorted(
            (m.raw.replace(b"\r\n", b"\n"), "".join(sorted(FLAG_LETTERS[f] for f in m.flags if f in FLAG_LETTERS)))
            for m in box.messages
        )

    for name in ("INBOX", "Sent", "Archive", "Archive/2025", "Drafts", "Trash"):
        maildir = mailbox.Maildir(local / name, create=False)
        # mbsync adds its own tracking header (X-TUID) while it copies; drop it.
        got = sorted(
            (
                re.sub(rb"(?m)^X-TUID: .*\n", b"", maildir.get_bytes(key).replace(b"\r\n", b"\n")),
                "".join(sorted(maildir.get_message(key).get_flags())),
            )
            for key in maildir.keys()
        )
        assert got == servers.call(expected, name), name
