"""SEARCH (RFC 3501 §6.4.4): a parsed key tree compiled into one predicate.

Strings match as case-insensitive substrings of decoded text, as the RFC asks;
dates ignore time and zone. Everything a key reads comes from the per-message facts
cached at delivery (`index.facts`), so a search never parses a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from mailsim.protocol.imap.index import facts
from mailsim.protocol.imap.parser import SEARCH_FLAG_KEYS, SearchKey
from mailsim.store.model import StoredMessage

SUPPORTED_CHARSETS = ("US-ASCII", "UTF-8")

Predicate = Callable[[int, StoredMessage], bool]


@dataclass(frozen=True, slots=True)
class SearchContext:
    """What a key needs to know about the session's view of the mailbox."""

    max_sequence: int
    max_uid: int
    is_recent: Callable[[StoredMessage], bool]


def compile_key(key: SearchKey, context: SearchContext) -> Predicate:
    kind = key.kind
    if kind == "ALL":
        return lambda seq, m: True
    if kind == "AND":
        parts = [compile_key(child, context) for child in key.children]
        return lambda seq, m: all(p(seq, m) for p in parts)
    if kind == "OR":
        first, second = (compile_key(child, context) for child in key.children)
        return lambda seq, m: first(seq, m) or second(seq, m)
    if kind == "NOT":
        inner = compile_key(key.children[0], context)
        return lambda seq, m: not inner(seq, m)
    if kind in SEARCH_FLAG_KEYS:
        flag, present = SEARCH_FLAG_KEYS[kind]
        return (lambda seq, m: flag in m.flags) if present else (lambda seq, m: flag not in m.flags)
    if kind in ("KEYWORD", "UNKEYWORD"):
        keyword = key.value
        if kind == "KEYWORD":
            return lambda seq, m: keyword in m.flags
        return lambda seq, m: keyword not in m.flags
    recent = context.is_recent
    if kind == "RECENT":
        return lambda seq, m: recent(m)
    if kind == "NEW":
        return lambda seq, m: recent(m) and "\\Seen" not in m.flags
    if kind == "OLD":
        return lambda seq, m: not recent(m)
    if kind == "SEQUENCE":
        sequence, largest = key.value, context.max_sequence
        return lambda seq, m: sequence.contains(seq, largest)
    if kind == "UID":
        uids, largest_uid = key.value, context.max_uid
        return lambda seq, m: uids.contains(m.uid, largest_uid)
    if kind == "LARGER":
        limit = key.value
        return lambda seq, m: len(facts(m).wire) > limit
    if kind == "SMALLER":
        limit = key.value
        return lambda seq, m: len(facts(m).wire) < limit
    if kind in ("BEFORE", "ON", "SINCE"):
        return _date_test(kind, key.value, lambda m: m.internal_date.date())
    if kind in ("SENTBEFORE", "SENTON", "SENTSINCE"):
        return _date_test(kind.removeprefix("SENT"), key.value, lambda m: facts(m).sent_date)
    if kind in ("FROM", "TO", "CC", "BCC", "SUBJECT"):
        return _header_test(kind.lower(), key.value)
    if kind == "HEADER":
        name, value = key.value
        return _header_test(name.lower(), value)
    if kind == "BODY":
        needle = key.value.lower()
        return lambda seq, m: needle in facts(m).body_text
    if kind == "TEXT":
        needle = key.value.lower()

        def text(seq: int, m: StoredMessage) -> bool:
            found = facts(m)
            return needle in found.body_text or needle in found.header_text

        return text
    raise ValueError(f"search key {kind} has no evaluator")  # the parser admits no other


def _date_test(kind: str, wanted: date, read: Callable[[StoredMessage], date | None]) -> Predicate:
    def test(seq: int, m: StoredMessage) -> bool:
        day = read(m)
        if day is None:
            return False
        if kind == "BEFORE":
            return day < wanted
        if kind == "ON":
            return day == wanted
        return day >= wanted

    return test


def _header_test(name: str, value: str) -> Predicate:
    needle = value.lower()

    def test(seq: int, m: StoredMessage) -> bool:
        found = facts(m).headers.get(name)
        return found is not None and needle in found

    return test
