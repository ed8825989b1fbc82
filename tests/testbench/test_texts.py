"""Every text of the testbench exists in Spanish and English."""

from __future__ import annotations

from typing import Any

import pytest

from mailsim.events import Protocol
from mailsim.testbench.clientrules import RULES, rules_for
from mailsim.testbench.texts import data_file


def _bilingual_leaves(value: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        if "en" in value or "es" in value:
            return [(path, value)]
        return [leaf for key, child in value.items() for leaf in _bilingual_leaves(child, f"{path}.{key}")]
    return []


@pytest.mark.parametrize("name", ["client", "server"])
def test_every_text_has_both_languages(name: str) -> None:
    leaves = _bilingual_leaves(data_file(name))
    assert len(leaves) > 10
    for path, text in leaves:
        assert set(text) == {"en", "es"}, path
        for lang in ("en", "es"):  # a string, or its plural forms (one, other)
            forms = text[lang] if isinstance(text[lang], list) else [text[lang]]
            assert len(forms) in (1, 2) and all(form.strip() for form in forms), path


def test_report_words_exist_in_both_languages() -> None:
    words = data_file("report")
    assert set(words["en"]) == set(words["es"])


def test_every_client_rule_and_protocol_has_its_texts() -> None:
    verdicts = data_file("client")["verdicts"]
    for protocol in Protocol:
        rules = rules_for(protocol)
        assert rules.closing and rules.opening
        for rule in ("opening", "order", "ignored", "syntax", "line-ends", "hanging", "closing", "goal"):
            entry = verdicts[rule]
            for field in ("title", "pass", "fail", "why"):
                value = entry[field]
                chosen = value.get(protocol.value, value) if "en" not in value else value
                assert chosen.get("en") and chosen.get("es"), (rule, field, protocol)
            rfc = entry["rfc"]
            assert (rfc.get(protocol.value) if isinstance(rfc, dict) else rfc), (rule, protocol)
    assert len(RULES) >= 9
