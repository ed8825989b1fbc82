"""The mailboxes as a conversation has shown them, for a server mailsim cannot look into.

With mailsim's own servers the mailbox view reads the store. With any other server
(`mailsim connect`, `mailsim watch`) all there is to go on is what went over the wire:
the folders a LIST named, how many messages a SELECT or STAT counted, and what FETCH,
LIST, UIDL, RETR or TOP said about each message. The observers fill this in as they
read the dialog; nothing here is guessed.
"""

from __future__ import annotations

import email.header
import re
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser

_HEADERS = BytesHeaderParser(policy=policy.default)
_FETCH_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)
_FETCH_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)", re.IGNORECASE)
_ENVELOPE_SUBJECT = re.compile(rb'\bENVELOPE \((?:NIL|"(?:[^"\\]|\\.)*") ("((?:[^"\\]|\\.)*)"|NIL)', re.IGNORECASE)


@dataclass
class SeenMessage:
    number: int
    uid: str = ""
    flags: tuple[str, ...] = ()
    size: int | None = None
    subject: str | None = None
    marked: bool = False  # POP3 DELE, not yet committed by QUIT


@dataclass
class SeenMailbox:
    name: str
    count: int | None = None  # EXISTS, STAT, STATUS MESSAGES
    messages: dict[int, SeenMessage] = field(default_factory=dict)  # by message number

    def message(self, number: int) -> SeenMessage:
        return self.messages.setdefault(number, SeenMessage(number))

    def expunge(self, number: int) -> None:
        """IMAP EXPUNGE: the message goes and the ones after it move down by one."""
        self.messages = {
            (n - 1 if n > number else n): SeenMessage(**{**vars(m), "number": n - 1 if n > number else n})
            for n, m in self.messages.items() if n != number
        }
        if self.count:
            self.count -= 1


@dataclass
class SeenMailboxes:
    server: str
    user: str = ""
    mailboxes: dict[str, SeenMailbox] = field(default_factory=dict)
    selected: str = ""
    version: int = 0  # bumped on every change, so a view redraws only when needed

    def mailbox(self, name: str) -> SeenMailbox:
        self.version += 1
        return self.mailboxes.setdefault(name, SeenMailbox(name))

    @property
    def current(self) -> SeenMailbox | None:
        return self.mailboxes.get(self.selected) if self.selected else None


def subject_from_headers(raw: bytes) -> str | None:
    """The Subject of a header block (RFC 2047 decoded), None when it has none."""
    try:
        value = _HEADERS.parsebytes(raw).get("subject")
    except Exception:  # a malformed header block says nothing, it does not crash the view
        return None
    return " ".join(str(value).split()) if value is not None else None


def fetch_facts(response: bytes, message: SeenMessage) -> None:
    """Fill in what an IMAP FETCH response says: UID, FLAGS, RFC822.SIZE, a subject
    from ENVELOPE or from a header literal."""
    head = response.split(b"\r\n", 1)[0]
    if (found := _FETCH_UID.search(head)) is not None:
        message.uid = found.group(1).decode()
    if (found := _FETCH_SIZE.search(head)) is not None:
        message.size = int(found.group(1))
    if (found := _FETCH_FLAGS.search(response)) is not None:
        message.flags = tuple(found.group(1).decode("utf-8", "replace").split())
    if (found := _ENVELOPE_SUBJECT.search(head)) is not None and found.group(2) is not None:
        quoted = found.group(2).replace(b'\\"', b'"').replace(b"\\\\", b"\\").decode("utf-8", "replace")
        try:
            message.subject = str(email.header.make_header(email.header.decode_header(quoted)))
        except (ValueError, LookupError):  # a bad encoded-word: shown as sent
            message.subject = quoted
    elif b"\r\n" in response:
        subject = subject_from_headers(response.split(b"\r\n", 1)[1])
        if subject is not None:
            message.subject = subject
