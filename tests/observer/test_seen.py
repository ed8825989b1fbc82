"""The mailboxes as a dialog shows them (what the mailbox view shows for another server)."""

from __future__ import annotations

from mailsim.protocol.imap.observer import ImapObserver
from mailsim.protocol.imap.session import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.pop3_observer import Pop3Observer
from tests.observer.equivalence import drive_engine


def watch(observer, engine, turns):
    conversation = drive_engine(engine, turns)
    watcher = observer(session_id="s", peer="mail.example:143")
    for client, server in conversation.turns:
        watcher.client_data(client)
        watcher.server_data(server)
    return watcher.seen, conversation


def test_imap_folders_counts_and_fetched_facts() -> None:
    seen, _ = watch(ImapObserver, ImapSession, [
        b"a LOGIN alice wonderland\r\n", b'b LIST "" *\r\n', b"c STATUS Sent (MESSAGES)\r\n",
        b"d SELECT INBOX\r\n", b"e FETCH 1:2 (UID FLAGS RFC822.SIZE ENVELOPE)\r\n",
        b"f FETCH 3 BODY.PEEK[HEADER.FIELDS (SUBJECT)]\r\n", b"g STORE 1 +FLAGS (\\Deleted)\r\n", b"h EXPUNGE\r\n",
    ])
    assert seen.user == "alice" and seen.selected == "INBOX" and seen.server == "mail.example:143"
    assert {"INBOX", "Sent", "Drafts", "Trash"} <= set(seen.mailboxes)
    assert seen.mailboxes["Sent"].count == 1 and seen.mailboxes["INBOX"].count == 6  # 7, one expunged
    numbers = {n: (m.uid, m.flags, m.size is not None, bool(m.subject)) for n, m in seen.current.messages.items()}
    # Message 1 was expunged: UID 2 is number 1 now; the third message's subject came
    # from a header literal, so only that is known of it.
    assert numbers == {1: ("2", ("\\Flagged", "\\Recent"), True, True), 2: ("", (), False, True)}


def test_imap_a_failed_select_leaves_no_mailbox_selected() -> None:
    seen, _ = watch(ImapObserver, ImapSession, [
        b"a LOGIN alice wonderland\r\n", b"b SELECT INBOX\r\n", b"c SELECT Nowhere\r\n",
    ])
    assert seen.selected == "" and seen.mailboxes["INBOX"].count == 7


def test_pop3_maildrop_sizes_unique_ids_and_deletion_marks() -> None:
    seen, _ = watch(Pop3Observer, Pop3Session, [
        b"USER bob\r\n", b"PASS builder\r\n", b"STAT\r\n", b"LIST\r\n", b"UIDL 2\r\n", b"TOP 1 0\r\n",
        b"DELE 1\r\n", b"DELE 2\r\n", b"RSET\r\n", b"DELE 3\r\n",
    ])
    drop = seen.current
    assert seen.user == "bob" and drop.count == 4 and sorted(drop.messages) == [1, 2, 3, 4]
    assert all(m.size for m in drop.messages.values()) and drop.messages[2].uid.endswith("-2")
    assert drop.messages[1].subject and [n for n, m in drop.messages.items() if m.marked] == [3]
    seen, _ = watch(Pop3Observer, Pop3Session, [b"USER bob\r\n", b"PASS builder\r\n", b"STAT\r\n",
                                                 b"LIST\r\n", b"DELE 3\r\n", b"QUIT\r\n"])
    assert sorted(seen.current.messages) == [1, 2, 4] and seen.current.count == 3  # UPDATE removed it
