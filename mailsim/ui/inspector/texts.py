"""The inspector's and the composer's texts, from ``explanations.toml``.

Each entry holds its English and Spanish text side by side, so a missing
translation is visible in one place (a test checks that none is).
"""

from __future__ import annotations

import tomllib
from functools import cache

from mailsim.plurals import choose
from mailsim.resources import package_data

LANGUAGES = ("en", "es")


@cache
def load_entries() -> dict[str, dict[str, str]]:
    """``{"header.content-type": {"en": ..., "es": ...}, ...}``."""
    with package_data("ui", "inspector", "explanations.toml").open("rb") as stream:
        data = tomllib.load(stream)
    entries: dict[str, dict[str, str]] = {}
    for table, rows in data.items():
        if not isinstance(rows, dict):
            continue
        for key, texts in rows.items():
            entries[f"{table}.{key}"] = texts
    return entries


class _Blanks(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Texts:
    """``texts("ui.tree")`` in one language; ``{placeholders}`` filled in."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang if lang in LANGUAGES else "en"
        self._entries = load_entries()

    def __call__(self, key: str, **params: object) -> str:
        entry = self._entries.get(key)
        if entry is None:
            return key
        text = choose(entry.get(self.lang) or entry.get("en") or key, self.lang, params)
        return text.format_map(_Blanks(params)) if params else text

    def has(self, key: str) -> bool:
        return key in self._entries
