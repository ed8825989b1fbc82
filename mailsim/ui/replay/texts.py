"""The replay screen's texts, in English and Spanish, from `strings/<lang>.toml` beside
this module. A key missing in Spanish falls back to English, then to the key itself."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "es")


@cache
def _table(lang: str) -> dict[str, str]:
    with (Path(__file__).parent / "strings" / f"{lang}.toml").open("rb") as stream:
        data = tomllib.load(stream)
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(path, value)
            else:
                flat[path] = str(value)

    walk("", data)
    return flat


class Texts:
    def __init__(self, lang: str = "en") -> None:
        self.lang = lang if lang in LANGUAGES else "en"

    def __call__(self, key: str, **params: object) -> str:
        text = _table(self.lang).get(key) or _table("en").get(key, key)
        return text.format(**params) if params else text

    @staticmethod
    def keys(lang: str) -> set[str]:
        return set(_table(lang))
