"""What each protocol engine can do, read from the engines themselves.

The validator asks these questions to refuse an expectation that can never match: a
reply code no engine sends, a verb the protocol does not have, a state that does not
exist. Everything comes from the engine modules (their reply catalog, state enum,
`@command` handlers, `TRANSITIONS` and `OBSOLETE`), so a lesson is checked against the
server as it is today.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass
from functools import cache

from mailsim.events import Protocol, ReplyClass
from mailsim.protocol.base import ReplyCatalog, ReplySpec
from mailsim.protocol.registry import ENGINES

# Status tokens of POP3 and IMAP and their class (SMTP's follow from the first digit).
_TOKEN_CLASS = {
    "+OK": ReplyClass.SUCCESS,
    "OK": ReplyClass.SUCCESS,
    "PREAUTH": ReplyClass.SUCCESS,
    "-ERR": ReplyClass.NEGATIVE,
    "NO": ReplyClass.NEGATIVE,
    "BAD": ReplyClass.BAD,
    "BYE": ReplyClass.CLOSING,
    "+": ReplyClass.INTERMEDIATE,
    "*": ReplyClass.DATA,
}


def reply_class_of(code: str) -> ReplyClass | None:
    if code.isdigit() and len(code) == 3 and code[0] in "2345":
        return ReplyClass.of_smtp(int(code))
    return _TOKEN_CLASS.get(code.upper())


@dataclass(frozen=True)
class ProtocolFacts:
    protocol: Protocol
    states: frozenset[str]            # the state enum's values
    verbs: frozenset[str]             # commands the engine handles, plus the obsolete ones it explains
    replies: tuple[ReplySpec, ...]    # every reply the engine can send
    command_free_states: frozenset[str]  # states where client lines are data, not commands

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(spec.code for spec in self.replies)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(spec.key for spec in self.replies)

    @property
    def classes(self) -> frozenset[ReplyClass]:
        return frozenset(c for c in map(reply_class_of, self.codes) if c is not None)

    def codes_of_key(self, key: str) -> frozenset[str]:
        return frozenset(spec.code for spec in self.replies if spec.key == key)


@cache
def facts(protocol: Protocol) -> ProtocolFacts | None:
    """The facts of `protocol`'s engine, or None while it has no engine."""
    engine = ENGINES.get(protocol)
    if engine is None:
        return None
    module = sys.modules[engine.__module__]
    state_enum = type(engine.initial_state)
    catalogs = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ReplyCatalog) and value is not ReplyCatalog
    ]
    replies = tuple(spec for catalog in catalogs for spec in catalog.all())
    if protocol is Protocol.IMAP:
        replies += (ReplySpec("untagged", "*", ""),)  # untagged data accompanies most commands
    table = getattr(module, "TRANSITIONS", {})
    verbs = set(engine.COMMANDS) | set(getattr(module, "OBSOLETE", ()))
    by_state: dict[str, set[str]] = {}
    for (state, verb) in table:
        by_state.setdefault(_value(state), set()).add(verb)
    command_free = {state for state, verbs_here in by_state.items() if all(v.startswith("<") for v in verbs_here)}
    return ProtocolFacts(
        protocol=protocol,
        states=frozenset(_value(s) for s in state_enum),
        verbs=frozenset(verbs),
        replies=replies,
        command_free_states=frozenset(command_free),
    )


def _value(state: enum.Enum | str) -> str:
    return str(state.value) if isinstance(state, enum.Enum) else str(state)


def split_command(protocol: Protocol, data: bytes) -> tuple[str, str] | None:
    """A client line as (VERB, arguments), or None if it is not a command line.

    IMAP lines start with a tag, and `UID FETCH` is one command: its verb is
    reported as "UID FETCH"."""
    text = data.decode("utf-8", errors="replace").rstrip("\r\n").strip()
    if not text:
        return None
    words = text.split(" ", 1)
    if protocol is Protocol.IMAP:
        if len(words) < 2:
            return None
        words = words[1].strip().split(" ", 1)
        if words[0].upper() == "UID" and len(words) == 2:
            sub = words[1].strip().split(" ", 1)
            return f"UID {sub[0].upper()}", sub[1] if len(sub) > 1 else ""
    return words[0].upper(), words[1] if len(words) > 1 else ""
