"""Every reply, command, state and note of the IMAP engine is explained in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailsim.events import Protocol, ReplyClass
from mailsim.protocol.explain import LANGUAGES, Explainer, load_explanations
from mailsim.protocol.imap import session as imap_session
from mailsim.protocol.imap.session import ImapReplies, ImapSession, ImapState

DATA = load_explanations("imap")


def note_keys() -> set[str]:
    """Every note key the engine's source can emit (`self._note("imap.<key>", ...)`)."""
    source = Path(imap_session.__file__).read_text(encoding="utf-8")
    assert 'self._note(f"' not in source, "note keys must be literal to be checked"
    return set(re.findall(r'self\._note\("imap\.([a-z0-9-]+)"', source))


def test_the_file_has_every_section() -> None:
    assert {"classes", "replies", "commands", "states", "notes"} <= DATA.keys()


@pytest.mark.parametrize("spec", ImapReplies.all(), ids=lambda spec: spec.key)
def test_every_reply_is_explained(spec) -> None:
    entry = DATA["replies"].get(spec.key)
    assert entry is not None, f"no explanation for reply {spec.key!r}"
    assert entry["code"] == spec.code
    for lang in LANGUAGES:
        assert entry[lang].strip(), (spec.key, lang)
        assert entry["next"][lang].strip(), (spec.key, lang)


def test_reply_keys_are_unique_and_none_is_stale() -> None:
    keys = [spec.key for spec in ImapReplies.all()]
    assert len(keys) == len(set(keys))
    assert set(DATA["replies"]) == set(keys)


@pytest.mark.parametrize("verb", sorted(ImapSession.COMMANDS))
def test_every_command_is_explained(verb: str) -> None:
    entry = DATA["commands"][verb]
    for lang in LANGUAGES:
        assert entry[lang].startswith(verb), (verb, lang)


def test_no_stale_commands() -> None:
    assert set(DATA["commands"]) == set(ImapSession.COMMANDS)


@pytest.mark.parametrize("state", list(ImapState), ids=lambda s: s.value)
def test_every_state_is_explained(state: ImapState) -> None:
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


def test_every_reply_class_is_explained() -> None:
    for reply_class in (ReplyClass.SUCCESS, ReplyClass.NEGATIVE, ReplyClass.BAD, ReplyClass.CLOSING,
                        ReplyClass.INTERMEDIATE, ReplyClass.DATA):
        for lang in LANGUAGES:
            assert DATA["classes"][reply_class.value][lang].strip()


def test_note_placeholders_are_filled_by_the_explainer() -> None:
    for lang in LANGUAGES:
        text = Explainer(lang).note(Protocol.IMAP, "imap.expunge-deferred", (("count", "2"), ("verb", "FETCH")))
        assert "2" in text and "FETCH" in text and "{" not in text
        literal = Explainer(lang).note(Protocol.IMAP, "imap.literal-continuation", (("size", "12"),))
        assert "12" in literal and "+}" in literal


def test_explainer_finds_replies_states_in_both_languages() -> None:
    english = Explainer("en").reply(Protocol.IMAP, "trycreate", "NO", ReplyClass.NEGATIVE)
    spanish = Explainer("es").reply(Protocol.IMAP, "trycreate", "NO", ReplyClass.NEGATIVE)
    assert "CREATE" in english.meaning and "crea" in spanish.meaning
    assert english.reply_class.startswith("NO") and spanish.reply_class.startswith("NO")
    assert Explainer("es").state(Protocol.IMAP, "not authenticated")[0] == "No autenticado"


def test_every_untagged_response_is_explained(store) -> None:
    from mailsim.protocol.imap.session import UNTAGGED_DATA

    assert set(DATA["untagged"]) == set(UNTAGGED_DATA)
    for name in UNTAGGED_DATA:
        for lang in LANGUAGES:
            assert DATA["untagged"][name][lang].startswith("* "), (name, lang)
    # Drive a session through every command and check each untagged name it sends.
    session = ImapSession(store, session_id="explain")
    other = ImapSession(store, session_id="other")
    for s in (session, other):
        s.start()
        s.receive_data(b"a LOGIN alice wonderland\r\nb SELECT INBOX\r\n")
    script = [
        b"c CAPABILITY", b"d ID NIL", b'e LIST "" *', b'f LSUB "" *', b"g STATUS Trash (MESSAGES)",
        b"h NAMESPACE", b"i SEARCH ALL", b"j FETCH 1 FLAGS", b"k STORE 1 +FLAGS (\\Deleted)",
        b"l EXPUNGE", b"m UNSELECT", b"n ENABLE CONDSTORE", b"o GETQUOTAROOT INBOX",
    ]
    other.receive_data(b"x STORE 2 +FLAGS (\\Answered)\r\n")
    seen: set[str] = set()
    for line in script:
        session.receive_data(line + b"\r\n")
        if line.startswith(b"k "):
            other.receive_data(b"y APPEND INBOX {3}\r\n")
            other.receive_data(b"hi\n\r\n")
    for raw in session.data_to_send().split(b"\r\n"):
        words = raw.split(b" ")
        if words[0] != b"*" or len(words) < 2 or words[1] in (b"OK", b"NO", b"BAD", b"BYE", b"PREAUTH"):
            continue
        seen.add((words[2] if words[1].isdigit() else words[1]).decode())
    assert seen == set(UNTAGGED_DATA)
