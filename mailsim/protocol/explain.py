"""Explanations of replies, commands, states and teaching notes, in Spanish and English.

The text is data: one TOML file per protocol in `mailsim/protocol/explanations/`
(`smtp.toml`, `pop3.toml`, `imap.toml`) plus `common.toml` for the reply classes and
`dialog.toml` for what the observers and the client transports note about any
conversation (`dialog.*` notes).
Layout of a protocol file (every leaf table has `en` and `es`):

    [replies.<key>]            # a ReplySpec key of the engine, e.g. "no-such-user"
    code = "550"
    en = "What this reply means."          es = "..."
    next = { en = "What a client does next.", es = "..." }

    [commands.<VERB>]          en / es: what the command does
    [states.<value>]           name = { en, es }; en / es: what the state allows
    [notes.<key>]              en / es, with {placeholders} filled from the Note event

Engines never read these files; the UI, the lessons and the wire log do.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from mailsim.events import Protocol, ReplyClass
from mailsim.plurals import choose
from mailsim.resources import package_data

LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class ReplyExplanation:
    meaning: str
    next_step: str
    reply_class: str


@cache
def load_explanations(name: str) -> dict[str, Any]:
    path = package_data("protocol", "explanations", f"{name}.toml")
    if not path.exists():
        return {}
    with path.open("rb") as stream:
        return tomllib.load(stream)


def _text(entry: Any, lang: str, params: Mapping[str, object] | None = None) -> str:
    """An entry's text in `lang`; a list is plural forms, chosen by `params` (`mailsim.plurals`)."""
    if isinstance(entry, dict):
        value = entry.get(lang) or entry.get("en") or ""
        return choose(value, lang, params or {}) if isinstance(value, list) else str(value)
    return ""


class _SafeDict(dict):  # missing {placeholders} stay visible instead of raising
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Explainer:
    def __init__(self, lang: str = "en") -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def _data(self, protocol: Protocol) -> dict[str, Any]:
        return load_explanations(protocol.value)

    def reply_class(self, reply_class: ReplyClass, protocol: Protocol | None = None) -> str:
        common = load_explanations("common").get("classes", {})
        if protocol is not None:
            specific = self._data(protocol).get("classes", {}).get(reply_class.value)
            if specific:
                return _text(specific, self.lang)
        return _text(common.get(reply_class.value, {}), self.lang)

    def reply(self, protocol: Protocol, key: str, code: str, reply_class: ReplyClass) -> ReplyExplanation:
        replies: dict[str, dict[str, Any]] = self._data(protocol).get("replies", {})
        entry = replies.get(key) if key else None
        if entry is None:
            entry = next((e for e in replies.values() if e.get("code") == code), {})
        return ReplyExplanation(
            meaning=_text(entry, self.lang),
            next_step=_text(entry.get("next", {}), self.lang),
            reply_class=self.reply_class(reply_class, protocol),
        )

    def command(self, protocol: Protocol, verb: str) -> str:
        return _text(self._data(protocol).get("commands", {}).get(verb.upper(), {}), self.lang)

    def state(self, protocol: Protocol, state: str) -> tuple[str, str]:
        """(display name, what the state means and allows)."""
        entry = self._data(protocol).get("states", {}).get(state, {})
        return _text(entry.get("name", {}), self.lang) or state, _text(entry, self.lang)

    def note_once(self, protocol: Protocol, key: str) -> bool:
        """A note that teaches something general (`once = true` in the data): worth
        reading once, not in every session."""
        short = key.split(".", 1)[1] if key.startswith(protocol.value + ".") else key
        return bool(self._data(protocol).get("notes", {}).get(short, {}).get("once", False))

    def note(self, protocol: Protocol, key: str, params: tuple[tuple[str, str], ...] = ()) -> str:
        short = key.split(".", 1)[1] if key.startswith(protocol.value + ".") else key
        entry = self._data(protocol).get("notes", {}).get(short, {})
        if not entry and key.startswith("dialog."):  # what observers and client transports say
            entry = load_explanations("dialog").get("notes", {}).get(key.removeprefix("dialog."), {})
        if not entry:  # notes every protocol shares (TLS)
            entry = load_explanations("common").get("notes", {}).get(key, {})
        return _text(entry, self.lang, dict(params)).format_map(_SafeDict(params))
