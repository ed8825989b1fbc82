"""Plural forms chosen by each language's gettext rule, in every kind of text file."""

from __future__ import annotations

import pytest

from mailsim.events import Protocol
from mailsim.plurals import PLURAL_FORMS, choose, rule
from mailsim.protocol.explain import Explainer


def test_the_rules_are_gettext_expressions():
    for lang in PLURAL_FORMS:
        forms = [rule(lang)(n) for n in (0, 1, 2, 5, 21, 1000)]
        assert forms == [1, 0, 1, 1, 1, 1], lang  # English and Spanish: one for 1, other for the rest


def test_choose_picks_by_count_or_the_first_number():
    forms = ["{count} line", "{count} lines"]
    assert choose(forms, "en", {"count": 1}) == "{count} line"
    assert choose(forms, "es", {"count": "2"}) == "{count} lines"
    assert choose(["{parts} part, {size}", "{parts} parts, {size}"], "en", {"parts": 1, "size": "137 B"}).startswith("{parts} part,")
    assert choose("plain text", "en", {"count": 3}) == "plain text"


@pytest.mark.parametrize(("lang", "one", "many"), [
    ("en", "1 message removed", "2 messages removed"),
    ("es", "se borró 1 mensaje", "se borraron 2 mensajes"),
])
def test_explanations_agree_with_their_number(lang, one, many):
    explain = Explainer(lang)
    assert one in explain.note(Protocol.POP3, "pop3.update", (("removed", "1"),))
    assert many in explain.note(Protocol.POP3, "pop3.update", (("removed", "2"),))


def test_inspector_texts_have_plural_forms():
    from mailsim.ui.inspector.texts import Texts

    assert Texts("en")("ui.composer-parts", parts=1, size="137 B") == "1 part, 137 B"
    assert Texts("es")("ui.composer-parts", parts=3, size="2.1 kB") == "3 partes, 2.1 kB"
