"""Which language to speak when none is asked for: the locale's, as gettext picks it.

The messages locale is the first of LC_ALL, LC_MESSAGES, LANG that is set. The "C" or
"POSIX" locale (also `C.UTF-8`, the default of containers and CI) means no translation:
English, and then, as in GNU gettext, LANGUAGE is ignored. Otherwise LANGUAGE (a
priority list, `es:en`) wins, then the locale's own language. Anything not spoken
here falls back to English.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANGUAGES = ("en", "es")


def _language_of(value: str) -> str:
    return value.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()


def locale_source(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(variable, value) the messages locale comes from; ("", "") when none is set."""
    env = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(variable, ""):
            return variable, env[variable]
    return "", ""


def default_language(environ: Mapping[str, str] | None = None) -> str:
    """`es` or `en` from the environment, the way gettext would choose a catalog."""
    env = os.environ if environ is None else environ
    _variable, value = locale_source(env)
    if _language_of(value) in ("c", "posix"):
        return "en"
    for entry in env.get("LANGUAGE", "").split(":"):
        if _language_of(entry) in LANGUAGES:
            return _language_of(entry)
    code = _language_of(value)
    return code if code in LANGUAGES else "en"
