"""Plural forms, as gettext chooses them: one rule per language, many forms per text.

A text that depends on a number is written in the data files (UI strings, explanations,
inspector texts) as a list of forms instead of one string, in the order of the
language's gettext `Plural-Forms` rule (English and Spanish: `["one", "other"]`):

    hints = ["{count} hint used", "{count} hints used"]

The number is the `count` parameter (else the first whole-number parameter). The rule
is gettext's own C expression, compiled by the standard library (`gettext.c2py`), so a
language with three forms is one more line here, not new code.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from functools import cache

# The `Plural-Forms` header of each language's catalog (GNU gettext manual, §12.3).
PLURAL_FORMS = {
    "en": "nplurals=2; plural=(n != 1);",
    "es": "nplurals=2; plural=(n != 1);",
}


@cache
def rule(lang: str) -> Callable[[int], int]:
    header = PLURAL_FORMS.get(lang, PLURAL_FORMS["en"])
    expression = header.split("plural=", 1)[1].strip().rstrip(";")
    return gettext.c2py(expression)


def _number(params: Mapping[str, object]) -> int | None:
    candidates = [params["count"]] if "count" in params else list(params.values())
    for value in candidates:
        try:
            return int(str(value).replace(",", ""))
        except (TypeError, ValueError):
            continue
    return None


def choose(text: str | list[str], lang: str, params: Mapping[str, object]) -> str:
    """`text` itself, or the one of its plural forms that fits the number in `params`."""
    if isinstance(text, str):
        return text
    if not text:
        return ""
    number = _number(params)
    index = rule(lang)(abs(number)) if number is not None else len(text) - 1
    return str(text[min(index, len(text) - 1)])
