"""An assignment's requirements, checked on what the run left in the store.

Messages are read with mailsim's MIME model (the one the inspector and the IMAP server
use), so "an attachment named informe.pdf" means what a mail reader would show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from mailsim.events import Protocol
from mailsim.lesson.model import Text
from mailsim.mime.model import build_model
from mailsim.store.model import INBOX, StoredMessage
from mailsim.store.store import MailStore
from mailsim.testbench.assignment import Assignment, CommandRequired, DeletedRequired, MessageRequired
from mailsim.testbench.conversation import Conversation
from mailsim.testbench.texts import data_file, rfc_of, text_of
from mailsim.testbench.verdict import Status, Verdict


@dataclass(frozen=True, slots=True)
class MailboxSnapshot:
    """Each account's INBOX at one moment, in order (message n is `uids[n - 1]`), with
    each message's date: its Date: header, or when it arrived if that is unreadable."""

    uids: dict[str, tuple[int, ...]]
    dates: dict[str, tuple[datetime, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, store: MailStore) -> "MailboxSnapshot":
        inboxes = {name: a.mailboxes[INBOX].messages for name, a in store.accounts.items() if INBOX in a.mailboxes}
        return cls(
            {name: tuple(m.uid for m in messages) for name, messages in inboxes.items()},
            {name: tuple(_date(m) for m in messages) for name, messages in inboxes.items()},
        )


def _date(message: StoredMessage) -> datetime:
    header = build_model(message.raw).root.header("Date")
    try:
        found = parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError, IndexError):
        found = None
    if found is None:
        return message.internal_date
    return found if found.tzinfo is not None else found.replace(tzinfo=timezone.utc)


def judge_requirements(
    assignment: Assignment, conversations: list[Conversation], store: MailStore, before: MailboxSnapshot
) -> list[Verdict]:
    after = MailboxSnapshot.of(store)
    found = []
    for requirement in assignment.requirements:
        if isinstance(requirement, MessageRequired):
            found.append(_message(requirement, assignment.protocol, conversations, store))
        elif isinstance(requirement, DeletedRequired):
            found.append(_deleted(requirement, assignment.protocol, before, after))
        else:
            found.append(_command(requirement, assignment.protocol, conversations))
    return found


def _entry(rule: str) -> dict:
    return data_file("client")["verdicts"][rule]


def _part(fragment: str, **params: object) -> Text:
    return text_of(_entry("req-message")["parts"][fragment], **params)


def _join(texts: list[Text], sep: str = "; ") -> Text:
    return Text(es=sep.join(t.es for t in texts), en=sep.join(t.en for t in texts))


def delivered_messages(conversation: Conversation, store: MailStore, to: str = "") -> list[bytes]:
    """The messages the conversation delivered (to `to`, an account or an address, if
    given), as stored: in a mailbox, or in the outgoing queue when relayed."""
    wanted = to.lower()
    raws = []
    for d in conversation.delivered:
        if wanted and (d.account or "").lower() != wanted and d.recipient.lower() != wanted:
            continue
        if d.account:
            message = store.mailbox(d.account, d.mailbox or INBOX).by_uid(d.uid)
            raws.append(message.raw if message is not None else b"")
        else:
            raws += [q.raw for q in store.outgoing if q.queue_id == d.queue_id and q.recipient == d.recipient]
    return raws


def judge_messages(conversation: Conversation, store: MailStore) -> list[Verdict]:
    """What every message a client sends should have (RFC 5322 §3.6: Date and From;
    Message-ID is a should) and a MIME structure a reader can follow."""
    raws = delivered_messages(conversation, store)
    if not raws:
        return []
    entry = _entry("message-format")
    problems: list[Text] = []
    for number, raw in enumerate(dict.fromkeys(raws), start=1):  # one message to two recipients is one message
        model = build_model(raw)
        missing = [name for name in ("Date", "From", "Message-ID") if not model.root.header(name)]
        if missing:
            problems.append(text_of(entry["missing"], n=number, headers=", ".join(missing)))
        defects = sorted({d.code for d in model.defects})
        if defects:
            problems.append(text_of(entry["defects"], n=number, defects=", ".join(defects)))
    protocol = conversation.protocol
    return [
        Verdict(
            check=f"{protocol.value}.message-format",
            status=Status.WARN if problems else Status.PASS,
            title=text_of(entry["title"]),
            detail=_join(problems) if problems else text_of(entry["pass"], count=len(set(raws))),
            why=text_of(entry["why"]),
            rfc=rfc_of(entry),
            conversation=conversation.number,
        )
    ]


def _message(req: MessageRequired, protocol: Protocol, conversations: list[Conversation], store: MailStore) -> Verdict:
    raws = [raw for c in conversations for raw in delivered_messages(c, store, req.to)]
    with_parts = [_part("subject") if req.subject == "" else _part("subject-like", pattern=req.subject) if req.subject else None]
    with_parts += [_part("from", sender=req.sender) if req.sender else None]
    with_parts += [_part("attachment", name=req.attachment) if req.attachment else None]
    with_parts += [_part("text", pattern=req.text) if req.text else None]
    with_text = _join([p for p in with_parts if p is not None], sep="")
    howmany = _part("any") if req.count is None else _part("exactly", count=req.count)
    params = dict(to=req.to)
    problems: list[Text] = []
    fitting: list[Text] = []
    for number, raw in enumerate(raws, start=1):
        trouble = _message_problems(req, number, raw)
        if trouble:
            problems += trouble
        else:
            subject = build_model(raw).root.header("Subject") or ""
            fitting.append(_part("ok", n=number, subject=subject))
    if not raws:
        problems.append(_part("none", **params))
    elif req.count is not None and len(raws) != req.count:
        problems.insert(0, _part("count", found=len(raws), count=req.count, **params))
    ok = bool(fitting) and (req.count is None or (len(raws) == req.count and not problems))
    title = req.explain or text_of(_entry("req-message")["title"], protocol.value, to=req.to, howmany=howmany, **{"with": with_text})
    return _verdict("message", ok, protocol, title, _join(fitting if ok else problems))


def _verdict(rule: str, ok: bool, protocol: Protocol, title: Text, detail: Text, exchange: tuple[str, ...] = ()) -> Verdict:
    entry = _entry(f"req-{rule}")
    return Verdict(
        check=f"assignment.{rule}",
        status=Status.PASS if ok else Status.FAIL,
        title=title,
        detail=detail,
        why=text_of(entry["why"], protocol.value),
        rfc=rfc_of(entry, protocol.value),
        exchange=exchange,
    )


def _message_problems(req: MessageRequired, number: int, raw: bytes) -> list[Text]:
    model = build_model(raw)
    root = model.root
    problems = []
    subject = root.header("Subject")
    if req.subject is not None:
        if not subject:
            problems.append(_part("no-subject", n=number))
        elif req.subject and not re.search(req.subject, subject):
            problems.append(_part("bad-subject", n=number, subject=subject, pattern=req.subject))
    if req.sender:
        sender = root.header("From") or ""
        if req.sender.lower() not in sender.lower():
            problems.append(_part("bad-from", n=number, sender=sender, wanted=req.sender))
    if req.attachment:
        names = [node.filename for node in model.walk() if node.filename]
        if req.attachment not in names:
            shown = ", ".join(names) or _part("nothing")
            problems.append(_part("no-attachment", n=number, name=req.attachment, names=shown))
    if req.text:
        texts = [
            node.payload() for node in model.walk()
            if node.content_type.startswith("text/") and not node.filename
        ]
        if not any(isinstance(t, str) and re.search(req.text, t) for t in texts):
            problems.append(_part("no-text", n=number, pattern=req.text))
    return problems


def _deleted(req: DeletedRequired, protocol: Protocol, before: MailboxSnapshot, after: MailboxSnapshot) -> Verdict:
    if req.before is not None:  # "delete the messages older than…": which numbers those are
        dates = before.dates.get(req.account, ())
        req = replace(req, messages=tuple(n for n, d in enumerate(dates, start=1) if d < req.before))
    start = before.uids.get(req.account, ())
    left = set(after.uids.get(req.account, ()))
    removed = [n for n, uid in enumerate(start, start=1) if uid not in left]
    entry = _entry("req-deleted")
    wanted = ", ".join(map(str, req.messages)) or "—"
    removed_text = ", ".join(map(str, removed)) or text_of(entry["none"])
    ok = sorted(removed) == sorted(req.messages)
    detail = text_of(entry["pass" if ok else "fail"], protocol.value, wanted=wanted, removed=removed_text)
    if req.before is not None:
        title = req.explain or text_of(entry["title-before"], protocol.value, date=req.before.date().isoformat(), account=req.account)
    else:
        title = req.explain or text_of(entry["title"], protocol.value, wanted=wanted, account=req.account)
    return _verdict("deleted", ok, protocol, title, detail)


def _command(req: CommandRequired, protocol: Protocol, conversations: list[Conversation]) -> Verdict:
    accepted = next((e for c in conversations for e in c.commands if e.command == req.verb and e.positive), None)
    entry = _entry("req-command")
    ok = accepted is not None
    reply = accepted.reply_line() if accepted else ""
    title = req.explain or text_of(entry["title"], protocol.value, verb=req.verb)
    detail = text_of(entry["pass" if ok else "fail"], protocol.value, verb=req.verb, reply=reply)
    return _verdict("command", ok, protocol, title, detail, tuple(accepted.lines()) if accepted else ())
