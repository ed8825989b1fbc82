"""Maildir persistence keeps its promise: UIDs unique and increasing within a
UIDVALIDITY under any crash and any foreign file, and an acknowledged message on
disk (fsynced) before the acknowledgement."""

from __future__ import annotations

import imaplib
import poplib
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailsim.store.maildir import UIDLIST, attach_maildir
from mailsim.store.world import build_store


def _reload(root: Path):
    store = build_store()
    attach_maildir(store, root)
    return store


def _uids(store, account="bob", mailbox="INBOX") -> list[int]:
    return [m.uid for m in store.mailbox(account, mailbox).messages]


def test_uidlist_records_each_uid_before_the_message_is_visible(tmp_path: Path) -> None:
    store = build_store()
    attach_maildir(store, tmp_path)
    new = store.append("bob", "INBOX", b"Subject: one\r\n\r\nx\r\n")
    lines = (tmp_path / "bob" / UIDLIST).read_text().splitlines()
    assert lines[-1].startswith(f"{new.uid} ")
    key = lines[-1].split()[1]
    assert (tmp_path / "bob" / "cur" / f"{key}:2,").read_bytes() == b"Subject: one\n\nx\n"
    assert not any((tmp_path / "bob" / "tmp").iterdir())


def test_uids_handed_out_are_never_reused_after_a_stale_header(tmp_path: Path) -> None:
    """The bug: the header's N<uidnext> was rewritten lazily, so a file not in the
    list got an already used UID on the next load."""
    store = build_store()
    attach_maildir(store, tmp_path)
    for n in range(3):
        store.append("bob", "INBOX", b"Subject: %d\r\n\r\nx\r\n" % n)
    before = _uids(store)
    header = (tmp_path / "bob" / UIDLIST).read_text().splitlines()[0]
    assert int(header.split("N")[1]) < before[-1]  # the header lags behind, on purpose
    (tmp_path / "bob" / "new" / "1800000000.foreign.host").write_bytes(b"Subject: dropped in\n\nhi\n")

    reloaded = _reload(tmp_path)
    uids = _uids(reloaded)
    assert len(uids) == len(set(uids)) == len(before) + 1
    assert uids[:-1] == before and uids[-1] > before[-1]
    assert reloaded.mailbox("bob", "INBOX").messages[-1].raw == b"Subject: dropped in\r\n\r\nhi\r\n"
    assert reloaded.mailbox("bob", "INBOX").uidnext == uids[-1] + 1


KILLED_AT_RENAME = """
import os, signal, sys
from mailsim.store.maildir import attach_maildir
from mailsim.store.world import build_store
store = build_store()
attach_maildir(store, sys.argv[1])
real_rename = os.rename
def rename(src, dst):
    if "/tmp/" in str(src):
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between the uidlist line and the rename
    real_rename(src, dst)
os.rename = rename
store.append("bob", "INBOX", b"Subject: never acknowledged\\r\\n\\r\\nx\\r\\n")
"""


def test_kill_between_uidlist_and_rename_leaves_no_message_and_burns_the_uid(tmp_path: Path) -> None:
    before = _uids(_reload(tmp_path))
    done = subprocess.run([sys.executable, "-c", KILLED_AT_RENAME, str(tmp_path)], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    listed = (tmp_path / "bob" / UIDLIST).read_text().splitlines()[-1]
    burnt_uid = int(listed.split()[0])
    assert burnt_uid not in before and any((tmp_path / "bob" / "tmp").iterdir())

    reloaded = _reload(tmp_path)
    assert _uids(reloaded) == before  # the unacknowledged copy is not there
    assert not any((tmp_path / "bob" / "tmp").iterdir())  # and its leftover is gone
    later = reloaded.append("bob", "INBOX", b"Subject: after the crash\r\n\r\nx\r\n")
    assert later.uid > burnt_uid


def test_a_torn_last_uidlist_line_is_ignored(tmp_path: Path) -> None:
    store = build_store()
    attach_maildir(store, tmp_path)
    new = store.append("bob", "INBOX", b"Subject: x\r\n\r\nx\r\n")
    with (tmp_path / "bob" / UIDLIST).open("a") as out:
        out.write("9")  # a write cut short
    reloaded = _reload(tmp_path)
    assert _uids(reloaded)[-1] == new.uid
    assert len(set(_uids(reloaded))) == len(_uids(reloaded))


def test_flag_change_renames_the_one_file(tmp_path: Path) -> None:
    store = build_store()
    attach_maildir(store, tmp_path)
    new = store.append("bob", "INBOX", b"Subject: x\r\n\r\nx\r\n")
    store.set_flags("bob", "INBOX", new.uid, {"\\Seen", "$Work"})
    store.set_flags("bob", "INBOX", new.uid, {"\\Seen", "\\Flagged"})
    files = [p.name for sub in ("new", "cur") for p in (tmp_path / "bob" / sub).iterdir()]
    assert len(files) == len(store.mailbox("bob", "INBOX").messages)
    reloaded = _reload(tmp_path)
    assert reloaded.mailbox("bob", "INBOX").by_uid(new.uid).flags == {"\\Seen", "\\Flagged"}


@pytest.mark.parametrize("durable", [True, False])
def test_fsync_only_when_durable(tmp_path: Path, monkeypatch, durable: bool) -> None:
    store = build_store()
    attach_maildir(store, tmp_path, durable=durable)
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    store.append("bob", "INBOX", b"Subject: x\r\n\r\nx\r\n")
    # message file, uidlist line, new/ directory
    assert len(calls) == (3 if durable else 0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(store_dir: Path, smtp: int, imap: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "mailsim", "serve", "--store", str(store_dir), "--smtp-port", str(smtp),
         "--pop3-port", "0", "--imap-port", str(imap), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    for _ in range(3):  # the SMTP, POP3 and IMAP listening lines
        line = process.stdout.readline()
        assert "listening" in line, line
    return process


@pytest.mark.network
def test_kill_9_loses_no_acknowledged_message_and_duplicates_no_uid(tmp_path: Path) -> None:
    """One round of the kill -9 script (tests/perf/bench_store_crash.py runs many)."""
    store_dir = tmp_path / "mail"
    smtp_port, imap_port = _free_port(), _free_port()
    server = _serve(store_dir, smtp_port, imap_port)
    acknowledged = []
    try:
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            for n in range(20):
                subject = f"crash-test {n}"
                client.sendmail("a@example.org", ["bob@mailsim.test"], f"Subject: {subject}\r\n\r\nx\r\n")
                acknowledged.append(subject)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    # A file dropped in by another program while the server was down.
    (store_dir / "bob" / "new" / f"{int(time.time())}.outsider.host").write_bytes(b"Subject: outsider\n\nx\n")

    server = _serve(store_dir, smtp_port, imap_port)
    try:
        imap = imaplib.IMAP4("127.0.0.1", imap_port)
        imap.login("bob", "builder")
        imap.select("INBOX")
        _, data = imap.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects = {}
        for item in data:
            if isinstance(item, tuple):
                uid = int(item[0].split(b"UID ")[1].split()[0])
                subjects.setdefault(uid, []).append(item[1].decode().strip())
        assert all(len(v) == 1 for v in subjects.values())
        stored = [v[0].removeprefix("Subject: ") for v in subjects.values()]
        assert all(s in stored for s in acknowledged)
        assert "outsider" in stored
        # UID EXPUNGE of the outsider's UID removes exactly one message.
        outsider_uid = next(uid for uid, v in subjects.items() if v[0] == "Subject: outsider")
        imap.uid("STORE", str(outsider_uid), "+FLAGS", "(\\Deleted)")
        assert imap.uid("EXPUNGE", str(outsider_uid))[0] == "OK"
        _, left = imap.uid("SEARCH", "ALL")
        assert sorted(map(int, left[0].split())) == sorted(set(subjects) - {outsider_uid})
        imap.logout()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _deliver_like_procmail(folder: Path, name: str, raw: bytes) -> None:
    """Maildir delivery by another program: write in tmp/, rename into new/."""
    (folder / "tmp" / name).write_bytes(raw)
    os.rename(folder / "tmp" / name, folder / "new" / name)


def test_mail_another_program_delivers_while_serving_appears_at_noop(tmp_path: Path) -> None:
    from running_servers import start_servers

    from mailsim.events import Protocol

    store = build_store()
    attach_maildir(store, tmp_path)
    for servers in start_servers(store):
        imap = imaplib.IMAP4("127.0.0.1", servers.ports[Protocol.IMAP])
        imap.login("bob", "builder")
        _, exists = imap.select("INBOX")
        before = int(exists[0])
        _deliver_like_procmail(tmp_path / "bob", "1800000001.P1Q1.otherhost", b"Subject: from procmail\n\nhola\n")
        typ, _ = imap.noop()
        assert typ == "OK" and imap.response("EXISTS")[1][-1] == str(before + 1).encode()
        _, data = imap.fetch(str(before + 1), "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b"Subject: from procmail" in data[0][1]
        uid = int(data[0][0].split(b"UID ")[1].split()[0])
        assert not any((tmp_path / "bob" / "new").iterdir())  # taken in: moved to cur/
        imap.logout()

        _deliver_like_procmail(tmp_path / "bob", "1800000002.P1Q2.otherhost", b"Subject: second\n\nx\n")
        pop = poplib.POP3("127.0.0.1", servers.ports[Protocol.POP3], timeout=10)
        pop.user("bob")
        pop.pass_("builder")
        count = pop.stat()[0]
        assert b"Subject: second" in b"\r\n".join(pop.retr(count)[1])
        pop.quit()
    reloaded = _reload(tmp_path)
    inbox = reloaded.mailbox("bob", "INBOX")
    assert inbox.by_uid(uid).raw == b"Subject: from procmail\r\n\r\nhola\r\n"
    assert inbox.messages[-1].uid == uid + 1 and len(set(_uids(reloaded))) == len(inbox.messages)
