"""Carrying out the actions that touch the store rather than the views.

The UI and the autoplayer both deliver a message "from outside" (to wake an IDLE, to
give a POP3 session something new) the same way: here.
"""

from __future__ import annotations

from mailsim.clock import utc_datetime
from mailsim.events import Delivered
from mailsim.lesson.model import DeliverMessage, InspectMessage
from mailsim.store.model import INBOX, StoredMessage
from mailsim.store.store import MailStore

OUTSIDE_SESSION = "outside"


def deliver_from_outside(store: MailStore, action: DeliverMessage) -> Delivered:
    """Put the action's message in the recipient's INBOX, as a remote server's
    delivery would; returns the Delivered event for the caller to publish."""
    account = store.resolve(action.to)
    if account is None:
        raise ValueError(f"no account receives mail for {action.to!r}")
    queue_id = store.ids.next_id()
    trace = f"Return-Path: <{action.sender}>\r\n".encode() if action.sender else b""
    # A lesson's step must happen whatever the student did to the mailbox: no quota.
    message = store.append(
        account.name, INBOX, trace + action.raw, internal_date=utc_datetime(store.clock), check_quota=False
    )
    return Delivered(
        OUTSIDE_SESSION,
        store.clock.now(),
        queue_id,
        action.sender,
        action.to,
        account.name,
        INBOX,
        message.uid,
        message.size,
    )


def message_to_inspect(store: MailStore, action: InspectMessage) -> StoredMessage | None:
    """The stored message an inspect action names (uid 0: the newest), or None."""
    if not store.has_mailbox(action.account, action.mailbox):
        return None
    messages = list(store.mailbox(action.account, action.mailbox).messages)
    if not messages:
        return None
    if action.uid == 0:
        return messages[-1]
    return next((m for m in messages if m.uid == action.uid), None)
