"""What IMAP needs to know about a stored message, computed once and cached.

FETCH ENVELOPE / BODYSTRUCTURE and SEARCH over thousands of messages are fast only
if no message is parsed again: `facts(message)` builds the MIME model once (from the
CRLF form IMAP serves, so sizes and line counts match what is sent), renders ENVELOPE,
BODY and BODYSTRUCTURE, and keeps lower-cased decoded text for SEARCH. The result
lives in `StoredMessage.cache` (raw bytes never change once stored).

`attach_index(store)` does this work when a message is stored rather than when it is
first fetched, so the first FETCH of a large mailbox costs no parsing; it also keeps
the keywords in use per mailbox, so SELECT need not look at every message.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from operator import attrgetter

from mailsim.mime import MimeModel, build_model
from mailsim.mime.imap import bodystructure, envelope, to_crlf
from mailsim.mime.model import split_header_fields, unfold
from mailsim.store.changes import FlagsChanged, MailboxDeleted, MailboxRenamed, MessageAdded, StoreChange
from mailsim.store.model import Mailbox, StoredMessage
from mailsim.store.store import MailStore, StoreError

CACHE_KEY = "imap.facts"
# The session that holds a message's \Recent flag (RFC 3501 §2.3.2: exactly one).
RECENT_KEY = "imap.recent"


@dataclass(slots=True, eq=False)
class MessageFacts:
    wire: bytes               # the message as IMAP sends it: CRLF line endings
    model: MimeModel
    envelope: bytes
    body: bytes               # BODY (no extension data)
    bodystructure: bytes
    sent_date: date | None    # the Date: header's date, for SENTBEFORE/SENTON/SENTSINCE
    headers: dict[str, str]   # lower-cased field name -> lower-cased decoded values
    header_text: str          # every decoded field, lower-cased (part of TEXT)
    body_text: str            # the body's searchable text, lower-cased (BODY; part of TEXT)


def _wire_form(raw: bytes) -> bytes:
    if b"\r" not in raw:
        return raw.replace(b"\n", b"\r\n")
    if raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r"):
        return raw
    return to_crlf(raw)


def compute_facts(raw: bytes) -> MessageFacts:
    wire = _wire_form(raw)
    model = build_model(wire)
    root = model.root
    headers: dict[str, str] = {}
    for name, value in _searchable_fields(root.header_bytes):
        headers[name] = f"{headers[name]}\n{value}" if name in headers else value
    # RFC 3501 §6.4.4: BODY searches the whole body, so besides the decoded text
    # parts it covers every part's own header (MIME headers, the header of an
    # attached message) and message/* leaves such as a bounce's delivery-status.
    texts = []
    for node in model.walk():
        if node is not root:
            texts.extend(f"{name}: {value}" for name, value in _searchable_fields(node.header_bytes))
        if node.children:
            continue
        if node.maintype == "text":
            payload = node.payload
            if isinstance(payload, str):
                texts.append(payload.lower())
        elif node.maintype == "message":
            texts.append(node.body_bytes.decode("utf-8", "replace").lower())
    sent = None
    date_header = root.raw_header("date")
    if date_header:
        try:
            sent = parsedate_to_datetime(date_header.decode("ascii", "replace")).date()
        except (TypeError, ValueError, IndexError):
            sent = None
    return MessageFacts(
        wire=wire,
        model=model,
        envelope=envelope(model),
        body=bodystructure(model, extended=False),
        bodystructure=bodystructure(model, extended=True),
        sent_date=sent,
        headers=headers,
        header_text="\n".join(f"{name}: {value}" for name, value in headers.items()),
        body_text="\n".join(texts),
    )


def _searchable_fields(header_block: bytes) -> Iterator[tuple[str, str]]:
    """(lower-cased name, lower-cased decoded value) of each field, RFC 2047 words
    decoded. SEARCH needs only the text, so this skips the stdlib's structured
    header parsing (addresses, dates), which would cost most of the indexing time."""
    for raw_field in split_header_fields(header_block):
        name, _, value = raw_field.partition(b":")
        text = unfold(value).decode("utf-8", "replace")
        if "=?" in text:
            try:
                text = str(make_header(decode_header(text)))
            except (ValueError, LookupError, UnicodeError):
                pass
        yield name.strip().decode("ascii", "replace").lower(), text.lower()


# Defects that change how the tree was cut (not mere header oddities): worth a
# [PARSE] warning, since BODYSTRUCTURE then shows the server's best reading.
STRUCTURAL_DEFECTS = frozenset({
    "start-boundary-not-found", "close-boundary-not-found", "no-boundary-in-multipart",
    "multipart-invariant-violation", "missing-header-body-separator", "nesting-too-deep",
})


def structure_defects(message: StoredMessage) -> list[str]:
    """The structural defect codes of a message's MIME tree, in order, no repeats."""
    return list(dict.fromkeys(d.code for d in facts(message).model.defects if d.code in STRUCTURAL_DEFECTS))


def facts(message: StoredMessage) -> MessageFacts:
    found = message.cache.get(CACHE_KEY)
    if found is None:
        found = message.cache[CACHE_KEY] = compute_facts(message.raw)
    return found  # type: ignore[return-value]


class StoreIndex:
    """Per-store work done as changes happen: facts of each new message, and the
    keywords in use per mailbox (SELECT's FLAGS line) without scanning every message."""

    def __init__(self, store: MailStore) -> None:
        self.store = store
        self._keywords: dict[tuple[str, str], set[str]] = {}

    def keywords(self, account: str, mailbox: Mailbox) -> set[str]:
        key = (account, mailbox.name)
        found = self._keywords.get(key)
        if found is None:
            found = self._keywords[key] = {
                flag for flag in set().union(*map(_FLAGS, mailbox.messages)) if not flag.startswith("\\")
            }
        return found

    def __call__(self, change: StoreChange) -> None:
        key = (change.account, change.mailbox)
        if isinstance(change, MessageAdded):
            try:
                mailbox = self.store.mailbox(change.account, change.mailbox)
            except StoreError:
                return
            last = mailbox.messages[-1] if mailbox.messages else None
            message = last if last is not None and last.uid == change.uid else mailbox.by_uid(change.uid)
            if message is not None:
                facts(message)
                self._add_keywords(key, message.flags)
        elif isinstance(change, FlagsChanged):
            self._add_keywords(key, change.flags)
        elif isinstance(change, (MailboxRenamed, MailboxDeleted)):
            self._keywords.pop(key, None)

    def _add_keywords(self, key: tuple[str, str], flags: Iterable[str]) -> None:
        known = self._keywords.get(key)
        if known is not None:
            known.update(flag for flag in flags if not flag.startswith("\\"))


_FLAGS = attrgetter("flags")
_indexes: "weakref.WeakKeyDictionary[MailStore, StoreIndex]" = weakref.WeakKeyDictionary()


def attach_index(store: MailStore) -> StoreIndex:
    """The store's index, created and subscribed on first use (idempotent)."""
    index = _indexes.get(store)
    if index is None:
        index = _indexes[store] = StoreIndex(store)
        store.subscribe(index)
    return index
