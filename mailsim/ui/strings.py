"""Every text the app shows, in English and Spanish, from `strings/<lang>.toml`.

Keys are dotted paths into the TOML tables (`"panel.state.title"`). A text given as a
list holds plural forms, chosen by the `count` parameter (`mailsim.plurals`). A key missing in
Spanish falls back to English; a key missing everywhere shows as the key itself, so
a gap is visible on screen and caught by the completeness test rather than crashing.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from mailsim.language import default_language  # noqa: F401  (the app's import)
from mailsim.plurals import choose
from mailsim.resources import package_data

LANGUAGES = ("en", "es")


@cache
def load_table(lang: str) -> dict[str, str | list[str]]:
    """The flattened string table of one language."""
    path = package_data("ui", "strings", f"{lang}.toml")
    with path.open("rb") as stream:
        data = tomllib.load(stream)
    flat: dict[str, str] = {}
    _flatten("", data, flat)
    return flat


def _flatten(prefix: str, node: Any, out: dict[str, str | list[str]]) -> None:
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(path, value, out)
        elif isinstance(value, list):
            out[path] = [str(form) for form in value]  # plural forms
        else:
            out[path] = str(value)


class _Blanks(dict):  # a {placeholder} without a value stays visible
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Strings:
    """`strings("key", name=value)`: the text of `key` in this language."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang if lang in LANGUAGES else "en"
        self._table = load_table(self.lang)
        self._fallback = load_table("en")

    def __call__(self, key: str, **params: object) -> str:
        text = self._table.get(key)
        if text is None:
            text = self._fallback.get(key, key)
        text = choose(text, self.lang, params)
        return text.format_map(_Blanks(params)) if params else text

    def reason(self, reason: str) -> str:
        """Why a session closed, in this language (an engine's reason not translated
        yet shows as the engine says it)."""
        keys = (f"tls.reason.{reason}", f"reason.{reason}", f"connect.reason.{reason}")
        return next((self(key) for key in keys if self.has(key)), reason)

    def has(self, key: str) -> bool:
        return key in self._table or key in self._fallback
