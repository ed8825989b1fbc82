"""A write the store cannot make fails the command — 451 4.3.0, -ERR [SYS/TEMP],
NO [SERVERBUG] — and memory and disk stay equal; mailbox names are checked once,
for CREATE and RENAME alike. Real clients over real sockets."""

from __future__ import annotations

import errno
import imaplib
import poplib
import smtplib
from pathlib import Path

import pytest
from running_servers import start_servers

from mailsim.events import Protocol
from mailsim.store.maildir import attach_maildir
from mailsim.store.world import build_store


@pytest.fixture
def disk(tmp_path: Path):
    store = build_store()
    persistence = attach_maildir(store, tmp_path, durable=False)
    return store, persistence, tmp_path


@pytest.fixture
def servers(disk):
    yield from start_servers(disk[0])


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _contents(store) -> dict:
    return {
        (account.name, name): [(m.uid, m.raw, sorted(m.flags)) for m in box.messages]
        for account in store.accounts.values()
        for name, box in account.mailboxes.items()
    }


def assert_memory_equals_disk(servers, root: Path) -> None:
    memory = servers.call(lambda: _contents(servers.store))
    reloaded = build_store()
    attach_maildir(reloaded, root)
    assert _contents(reloaded) == memory


def _imap(servers, user="alice", password="wonderland") -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", servers.ports[Protocol.IMAP])
    client.login(user, password)
    return client


def test_append_on_a_full_disk_is_refused_and_nothing_changes(servers, disk, monkeypatch) -> None:
    _, persistence, root = disk
    client = _imap(servers)
    before = client.status("INBOX", "(MESSAGES UIDNEXT)")[1][0]
    monkeypatch.setattr(persistence, "_add", _disk_full)
    typ, data = client.append("INBOX", None, None, b"Subject: lost?\r\n\r\nx\r\n")
    assert typ == "NO" and data[0].startswith(b"[SERVERBUG] APPEND could not be written")
    assert b"MESSAGES 7 " in client.status("INBOX", "(MESSAGES UIDNEXT)")[1][0]
    monkeypatch.undo()
    typ, data = client.append("INBOX", None, None, b"Subject: kept\r\n\r\nx\r\n")
    assert typ == "OK" and b"APPENDUID" in data[0]
    assert before != client.status("INBOX", "(MESSAGES UIDNEXT)")[1][0]
    client.logout()
    assert_memory_equals_disk(servers, root)


def test_store_and_expunge_failures_leave_flags_and_messages(servers, disk, monkeypatch) -> None:
    _, persistence, root = disk
    client = _imap(servers)
    client.select("INBOX")
    real_rewrite = persistence._rewrite_flags

    def third_fails(account, name, uid, flags):
        if uid == client_uids[2]:
            _disk_full()
        real_rewrite(account, name, uid, flags)

    client_uids = servers.call(lambda: [m.uid for m in servers.store.mailbox("alice", "INBOX").messages])
    monkeypatch.setattr(persistence, "_rewrite_flags", third_fails)
    typ, data = client.store("1:5", "+FLAGS", "(\\Flagged $Busy)")
    assert typ == "NO" and b"[SERVERBUG]" in data[0]
    client.response("FETCH")  # drop the STORE's own untagged FETCH lines
    _, flags = client.fetch("1:5", "(FLAGS)")
    assert all(b"$Busy" not in line for line in flags), flags  # all or nothing: 1 and 2 were taken back
    monkeypatch.undo()
    client.store("1", "+FLAGS", "(\\Deleted)")
    monkeypatch.setattr(persistence, "_expunge", _disk_full)
    typ, data = client.expunge()
    assert typ == "NO" and b"[SERVERBUG]" in data[0]
    assert client.select("INBOX")[1] == [b"7"]
    client.logout()
    monkeypatch.undo()
    assert_memory_equals_disk(servers, root)


def test_a_name_the_file_system_refuses_fails_create(servers, disk) -> None:
    """200 dots pass the name check but become a 600-octet folder name (ENAMETOOLONG)."""
    root = disk[2]
    client = _imap(servers)
    typ, data = client.create("." * 200)
    assert typ == "NO" and data[0].startswith(b"[SERVERBUG] CREATE could not be written")
    assert all(b"...." not in line for line in client.list()[1])
    client.logout()
    assert_memory_equals_disk(servers, root)


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (("CREATE", "x" * 300), b"longer than 200 octets"),
        (("CREATE", "a//b"), b"hierarchy level is empty"),
        (("RENAME", "Trash", '""'), b"the name is empty"),
        (("RENAME", "Trash", "x" * 300), b"longer than 200 octets"),
        (("RENAME", "Archive", "Archive/inner"), b"cannot become"),
    ],
)
def test_create_and_rename_check_names_alike(servers, disk, command, problem) -> None:
    client = _imap(servers)
    before = client.list()[1]
    typ, data = client._simple_command(*command)
    assert typ == "NO"
    reply = client._untagged_response(typ, data, command[0])[1][-1]
    assert reply.startswith(b"[CANNOT] Invalid mailbox name") and problem in reply
    assert client.list()[1] == before
    client.logout()
    assert_memory_equals_disk(servers, disk[2])


def test_control_characters_in_a_literal_name_are_refused(servers, disk) -> None:
    client = _imap(servers)
    client.literal = b"ab\x00cd"
    typ, data = client._simple_command("CREATE")
    assert typ == "NO" and b"control characters" in data[-1]
    client.logout()
    assert_memory_equals_disk(servers, disk[2])


def test_smtp_answers_451_and_delivers_to_no_recipient(servers, disk, monkeypatch) -> None:
    store, persistence, root = disk
    real_add = persistence._add
    calls = []

    def second_fails(account, mailbox, message):
        calls.append(account)
        if len(calls) == 2:
            _disk_full()
        real_add(account, mailbox, message)

    monkeypatch.setattr(persistence, "_add", second_fails)
    counts = servers.call(lambda: {a: len(store.mailbox(a, "INBOX").messages) for a in ("alice", "bob")})
    with smtplib.SMTP("127.0.0.1", servers.smtp, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("x@example.org", ["alice@mailsim.test", "bob@mailsim.test"], b"Subject: two\r\n\r\nx\r\n")
        assert refused.value.smtp_code == 451 and refused.value.smtp_error.startswith(b"4.3.0 ")
        assert client.noop()[0] == 250
    assert servers.call(lambda: {a: len(store.mailbox(a, "INBOX").messages) for a in ("alice", "bob")}) == counts
    monkeypatch.undo()
    assert_memory_equals_disk(servers, root)


def test_pop3_quit_that_cannot_remove_answers_sys_temp(servers, disk, monkeypatch) -> None:
    store, persistence, root = disk
    client = poplib.POP3("127.0.0.1", servers.ports[Protocol.POP3], timeout=10)
    client.user("bob")
    client.pass_("builder")
    count = client.stat()[0]
    client.dele(1)
    monkeypatch.setattr(persistence, "_expunge", _disk_full)
    with pytest.raises(poplib.error_proto) as failed:
        client.quit()
    assert failed.value.args[0].startswith(b"-ERR [SYS/TEMP] Could not remove the marked messages")
    monkeypatch.undo()
    assert servers.call(lambda: len(store.mailbox("bob", "INBOX").messages)) == count
    assert_memory_equals_disk(servers, root)


def test_create_and_rename_are_all_or_nothing(servers, disk, monkeypatch) -> None:
    _, persistence, root = disk
    client = _imap(servers)
    assert client.create("Projects/2026")[0] == "OK" and client.create("Projects/2027")[0] == "OK"
    before = client.list()[1]
    real_make, real_rename = persistence._make_folder, persistence._rename_folder

    def last_level_fails(account, name):
        if name == "New/Deep/Level":
            _disk_full()
        real_make(account, name)

    def second_fails(account, old, new):
        if old == "Projects/2027":
            _disk_full()
        real_rename(account, old, new)

    monkeypatch.setattr(persistence, "_make_folder", last_level_fails)
    monkeypatch.setattr(persistence, "_rename_folder", second_fails)
    assert client.create("New/Deep/Level")[0] == "NO"  # New and New/Deep are taken back
    assert client.rename("Projects", "Work")[0] == "NO"  # Projects and Projects/2026 renamed back
    assert client.list()[1] == before
    client.logout()
    monkeypatch.undo()
    assert_memory_equals_disk(servers, root)
