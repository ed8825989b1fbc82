"""The mail store, the default world and the account options."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsim.store.changes import FlagsChanged, MailboxCreated, MailboxRenamed, MessageAdded, MessagesExpunged
from mailsim.store.store import MailStore, StoreError
from mailsim.store.world import WorldError, build_store, load_world, parse_account_option, parse_roster


def test_default_world_accounts_and_samples() -> None:
    store = build_store()
    assert store.domain == "mailsim.test"
    assert store.authenticate("alice", "wonderland") is not None
    assert store.authenticate("bob", "builder") is not None
    assert store.authenticate("alice", "builder") is None
    inbox = store.mailbox("alice", "INBOX")
    raws = b"\n".join(m.raw for m in inbox.messages)
    assert b'filename="Carta.odt"' in raws and b"application/vnd.oasis.opendocument.text" in raws
    assert b"multipart/alternative" in raws
    assert b"message/rfc822" in raws
    assert b"=?UTF-8?" in raws.upper()
    assert any(m.size > 20_000 for m in inbox.messages)
    assert [m.uid for m in inbox.messages] == list(range(1, len(inbox.messages) + 1))
    assert inbox.uidnext == len(inbox.messages) + 1
    assert all(b"\r\n" in m.raw and b"\n" not in m.raw.replace(b"\r\n", b"") for m in inbox.messages)


def test_world_folders_with_special_use() -> None:
    store = build_store()
    names = set(store.account("alice").mailboxes)
    assert {"INBOX", "Sent", "Drafts", "Trash", "Archive", "Archive/2025"} <= names
    assert store.mailbox("alice", "Sent").special_use == "\\Sent"


def test_resolve_addresses_and_aliases() -> None:
    store = build_store()
    assert store.resolve("BOB@MailSim.Test").name == "bob"
    assert store.resolve("postmaster@mailsim.test") is not None
    assert store.resolve("nobody@mailsim.test") is None
    assert store.resolve("bob@elsewhere.example") is None


def test_inbox_is_case_insensitive() -> None:
    store = build_store()
    assert store.mailbox("alice", "inbox") is store.mailbox("alice", "INBOX")


def test_observers_hear_every_change() -> None:
    store = MailStore()
    store.add_account("carol", "pw")
    heard = []
    store.subscribe(heard.append)
    message = store.append("carol", "INBOX", b"Subject: a\r\n\r\nx\r\n")
    store.set_flags("carol", "INBOX", message.uid, {"\\Seen"})
    store.create_mailbox("carol", "Work/2026")
    store.rename_mailbox("carol", "Work", "Job")
    store.expunge("carol", "INBOX", [message.uid])
    kinds = [type(change) for change in heard]
    assert kinds == [
        MessageAdded, FlagsChanged, MailboxCreated, MailboxCreated, MailboxRenamed, MailboxRenamed, MessagesExpunged
    ]
    assert set(store.account("carol").mailboxes) == {"INBOX", "Job", "Job/2026"}


def test_uids_never_reused_after_expunge() -> None:
    store = MailStore()
    store.add_account("carol", "pw")
    first = store.append("carol", "INBOX", b"a\r\n")
    store.expunge("carol", "INBOX", [first.uid])
    second = store.append("carol", "INBOX", b"b\r\n")
    assert second.uid == first.uid + 1


def test_rename_inbox_moves_messages_and_keeps_inbox() -> None:
    store = MailStore()
    store.add_account("carol", "pw")
    store.append("carol", "INBOX", b"a\r\n")
    store.rename_mailbox("carol", "INBOX", "Old")
    assert store.mailbox("carol", "INBOX").messages == []
    assert [m.raw for m in store.mailbox("carol", "Old").messages] == [b"a\r\n"]


def test_store_errors_have_reasons() -> None:
    store = MailStore()
    store.add_account("carol", "pw")
    with pytest.raises(StoreError) as error:
        store.delete_mailbox("carol", "INBOX")
    assert error.value.reason == "cannot-delete-inbox"
    with pytest.raises(StoreError) as error:
        store.mailbox("carol", "Nope")
    assert error.value.reason == "no-such-mailbox"


def test_a_failing_observer_does_not_undo_the_change() -> None:
    store = MailStore()
    store.add_account("carol", "pw")

    def broken(change):
        raise RuntimeError("boom")

    store.subscribe(broken)
    store.append("carol", "INBOX", b"a\r\n")
    assert len(store.mailbox("carol", "INBOX").messages) == 1


def test_pop3_style_lock() -> None:
    store = MailStore()
    store.add_account("carol", "pw")
    assert store.lock("carol", "s1")
    assert not store.lock("carol", "s2")
    store.unlock("carol", "s2")  # not the holder: no effect
    assert store.lock_holder("carol") == "s1"
    store.unlock("carol", "s1")
    assert store.lock("carol", "s2")


def test_account_option_and_rosters(tmp_path: Path) -> None:
    assert parse_account_option("carol:secret").password == "secret"
    with pytest.raises(ValueError):
        parse_account_option("carol")
    csv = tmp_path / "class.csv"
    csv.write_text("user,password,name\n# comment\nana,a1,Ana Pérez\nluis,l2\n", encoding="utf-8")
    assert [(a.name, a.password, a.display_name) for a in parse_roster(csv)] == [
        ("ana", "a1", "Ana Pérez"), ("luis", "l2", "")
    ]
    text = tmp_path / "class.txt"
    text.write_text("ana:a1\n\nbroken line\n", encoding="utf-8")
    with pytest.raises(WorldError) as error:
        parse_roster(text)
    assert str(error.value).endswith(":3: expected 'user,password[,display name]' or 'user:password'")
    toml = tmp_path / "class.toml"
    toml.write_text('[[accounts]]\nname = "eva"\npassword = "e5"\n', encoding="utf-8")
    assert [a.name for a in parse_roster(toml)] == ["eva"]
    store = build_store(extra_accounts=parse_roster(csv))
    assert store.authenticate("ana", "a1") and store.authenticate("alice", "wonderland")


def test_bad_world_files_name_file_and_line(tmp_path: Path) -> None:
    world = tmp_path / "world.toml"
    world.write_text('domain = "x.test"\n[[accounts]]\nname = "a"\npassword = "b"\ncolour = "red"\n')
    with pytest.raises(WorldError) as error:
        load_world(world)
    assert f"{world}:5: unknown key 'colour'" in str(error.value)
    world.write_text('[[accounts]]\nname = "a"\npassword = "b"\n[[messages]]\naccount = "a"\nfile = "missing.eml"\n')
    with pytest.raises(WorldError) as error:
        load_world(world)
    assert "missing.eml" in str(error.value) and ":6:" in str(error.value)
    world.write_text("this is = = not toml")
    with pytest.raises(WorldError):
        load_world(world)
