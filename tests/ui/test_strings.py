"""Both languages say everything, with the same blanks to fill."""

from __future__ import annotations

import re
import string
from pathlib import Path

import mailsim.ui
from mailsim.ui.strings import Strings, default_language, load_table

UI = Path(mailsim.ui.__file__).parent


def _fields(text: str | list[str]) -> set[str]:
    forms = text if isinstance(text, list) else [text]  # a list: plural forms
    return {name for form in forms for _lit, name, _spec, _conv in string.Formatter().parse(form) if name}


def test_spanish_and_english_have_the_same_keys_and_placeholders():
    en, es = load_table("en"), load_table("es")
    assert set(en) == set(es)
    for key in en:
        assert _fields(en[key]) == _fields(es[key]), key


def test_spanish_is_not_a_copy_of_english():
    en, es = load_table("en"), load_table("es")
    same = [k for k in en if en[k] == es[k] and len(str(en[k])) > 12 and "{" not in str(en[k])]
    assert same == []


def test_every_key_the_code_asks_for_exists():
    pattern = re.compile(r"""\b(?:t|strings|self\.strings|app\.strings)\(\s*["']([a-z][\w.-]+)["']""")
    en = load_table("en")
    used = set()
    # The modules that read strings/<lang>.toml (the inspector, replay and lessons
    # keep their own tables beside them).
    mine = [*UI.glob("*.py"), *(UI / "screens").glob("*.py"), *(UI / "widgets").glob("*.py")]
    for path in mine:
        if path.name == "strings.py":  # its docstring shows the call shape
            continue
        used |= set(pattern.findall(path.read_text()))
    used = {k for k in used if not k.endswith(".")}
    assert used, "the pattern found no keys: the test would prove nothing"
    assert sorted(k for k in used if k not in en) == []


def test_binding_descriptions_are_keys():
    from mailsim.ui.app import MailsimApp

    en = load_table("en")
    for binding in MailsimApp.BINDINGS:
        assert binding.description in en, binding


def test_language_from_the_environment():
    assert default_language({"LANG": "es_ES.UTF-8"}) == "es"
    assert default_language({"LANG": "es_AR.UTF-8", "LC_ALL": "en_US.UTF-8"}) == "en"
    assert default_language({"LANG": "fr_FR.UTF-8"}) == "en"
    assert default_language({"LANGUAGE": "es:en", "LANG": "es_ES.UTF-8"}) == "es"
    assert default_language({"LANGUAGE": "es:en", "LANG": "en_GB.UTF-8"}) == "es"  # LANGUAGE is a priority list
    # The C locale means "no translation", and then gettext ignores LANGUAGE.
    assert default_language({"LANG": "C.UTF-8"}) == "en"
    assert default_language({"LANGUAGE": "es", "LANG": "C.UTF-8"}) == "en"
    assert default_language({"LC_ALL": "POSIX", "LANG": "es_ES.UTF-8"}) == "en"
    assert default_language({"LC_MESSAGES": "es_MX.UTF-8", "LANG": "C.UTF-8"}) == "es"
    assert default_language({}) == "en"


def test_plural_forms_follow_each_language():
    en, es = Strings("en"), Strings("es")
    assert en("notify.pasted", count=1).startswith("Pasted 1 line:")
    assert en("notify.pasted", count=3).startswith("Pasted 3 lines:")
    assert es("notify.pasted", count=1).startswith("Pegada 1 línea:")
    assert es("notify.pasted", count=0).startswith("Pegadas 0 líneas:")  # zero is plural in both


def test_missing_key_shows_itself_and_blanks_stay_visible():
    t = Strings("es")
    assert t("no.such.key") == "no.such.key"
    assert t("tab.console", protocol="SMTP") == "SMTP {number}"
