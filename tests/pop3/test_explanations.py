"""Every reply, command, state and note of the POP3 engine is explained in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailsim.events import Protocol, ReplyClass
from mailsim.protocol import pop3
from mailsim.protocol.explain import LANGUAGES, Explainer, load_explanations
from mailsim.protocol.pop3 import Pop3Replies, Pop3Session, Pop3State

DATA = load_explanations("pop3")


def note_keys() -> set[str]:
    """Every note key the engine's source can emit (`self._note("pop3.<key>", ...)`)."""
    source = Path(pop3.__file__).read_text(encoding="utf-8")
    assert 'self._note(f"' not in source, "note keys must be literal to be checked"
    return set(re.findall(r'self\._note\("pop3\.([a-z0-9-]+)"', source))


def test_the_file_has_every_section() -> None:
    assert {"replies", "commands", "states", "notes"} <= DATA.keys()


@pytest.mark.parametrize("spec", Pop3Replies.all(), ids=lambda spec: spec.key)
def test_every_reply_is_explained(spec) -> None:
    entry = DATA["replies"].get(spec.key)
    assert entry is not None, f"no explanation for reply {spec.key!r}"
    assert entry["code"] == spec.code
    for lang in LANGUAGES:
        assert entry[lang].strip(), (spec.key, lang)
        assert entry["next"][lang].strip(), (spec.key, lang)


def test_reply_keys_are_unique_and_none_is_stale() -> None:
    keys = [spec.key for spec in Pop3Replies.all()]
    assert len(keys) == len(set(keys))
    assert set(DATA["replies"]) == set(keys)


@pytest.mark.parametrize("verb", sorted(Pop3Session.COMMANDS))
def test_every_command_is_explained(verb: str) -> None:
    entry = DATA["commands"][verb]
    for lang in LANGUAGES:
        assert verb in entry[lang], (verb, lang)


def test_no_stale_commands() -> None:
    assert set(DATA["commands"]) == set(Pop3Session.COMMANDS)


@pytest.mark.parametrize("state", list(Pop3State), ids=lambda s: s.value)
def test_every_state_is_explained(state: Pop3State) -> None:
    entry = DATA["states"][state.value]
    for lang in LANGUAGES:
        assert entry[lang].strip() and entry["name"][lang].strip()


def test_every_note_is_explained_and_none_is_stale() -> None:
    keys = note_keys()
    assert len(keys) >= 15
    assert set(DATA["notes"]) == keys
    for key in keys:
        for lang in LANGUAGES:
            text = DATA["notes"][key][lang]
            forms = text if isinstance(text, list) else [text]  # a list: plural forms
            assert forms and all(form.strip() for form in forms), (key, lang)


def test_note_placeholders_are_filled_by_the_explainer() -> None:
    for lang in LANGUAGES:
        text = Explainer(lang).note(Protocol.POP3, "pop3.wrong-state", (("verb", "RETR"), ("state", "AUTHORIZATION")))
        assert "RETR" in text and "AUTHORIZATION" in text and "{" not in text


def test_explainer_finds_replies_and_classes_in_both_languages() -> None:
    english = Explainer("en").reply(Protocol.POP3, "in-use", "-ERR", ReplyClass.NEGATIVE)
    spanish = Explainer("es").reply(Protocol.POP3, "in-use", "-ERR", ReplyClass.NEGATIVE)
    assert "lock" in english.meaning and "bloque" in spanish.meaning
    assert english.reply_class.startswith("-ERR") and spanish.reply_class.startswith("-ERR")
    assert Explainer("es").state(Protocol.POP3, "update")[0].startswith("UPDATE")
