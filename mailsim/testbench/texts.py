"""The testbench's data files: verdict texts in both languages, read once.

A verdict entry has `title`, `pass`, `fail`, `why` (each `{en, es}`, or a table of
them keyed by protocol) and `rfc` (a string, or a table keyed by protocol). Blanks in
braces are filled from the rule's findings; a blank nobody filled stays visible. A text
that depends on a number is a list of plural forms (`mailsim/plurals.py`), chosen by
the `count` blank.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from mailsim.lesson.model import Text
from mailsim.plurals import choose
from mailsim.resources import package_data


@cache
def data_file(name: str) -> dict[str, Any]:
    with package_data("testbench", "data", f"{name}.toml").open("rb") as stream:
        return tomllib.load(stream)


class _Blanks(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: Text, **params: object) -> Text:
    """Fill the blanks of both languages; a `Text` parameter gives each its own words."""

    def blanks(lang: str) -> _Blanks:
        return _Blanks({k: v.get(lang) if isinstance(v, Text) else str(v) for k, v in params.items()})

    return Text(es=text.es.format_map(blanks("es")), en=text.en.format_map(blanks("en")))


def pick(value: Any, protocol: str = "") -> Any:
    """A field's value for `protocol`: the value itself, or its entry in a per-protocol table."""
    if isinstance(value, dict) and "en" not in value and protocol in value:
        return value[protocol]
    return value


def text_of(value: Any, protocol: str = "", **params: object) -> Text:
    value = pick(value, protocol)
    if not isinstance(value, dict) or "en" not in value:
        return Text(es="", en="")
    numbers = {key: param for key, param in params.items() if not isinstance(param, Text)}
    forms = {lang: choose(value.get(lang, value["en"]), lang, numbers) for lang in ("es", "en")}
    return fill(Text(es=forms["es"], en=forms["en"]), **params)


def rfc_of(entry: dict[str, Any], protocol: str = "") -> str:
    value = pick(entry.get("rfc", ""), protocol)
    return value if isinstance(value, str) else ""
