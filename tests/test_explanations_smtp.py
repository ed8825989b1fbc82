"""The bilingual explanation data for SMTP and for the reply classes is complete.

Everything the SMTP engine can show a student (every reply key, command, state and
teaching note) must have English and Spanish text. Note keys are found by scanning
the engine's source, so a new `_note("smtp.…")` without an explanation fails here.
"""

from __future__ import annotations

import ast
import inspect
import re
import string

import pytest

from mailsim.events import Note, Protocol, Reply, ReplyClass
from mailsim.protocol import smtp
from mailsim.protocol.base import SessionConfig, valid_commands
from mailsim.protocol.explain import LANGUAGES, Explainer, load_explanations
from mailsim.protocol.smtp import OBSOLETE, TRANSITIONS, SmtpReplies, SmtpSession, SmtpState
from mailsim.store.store import MailStore

SMTP = load_explanations("smtp")
COMMON = load_explanations("common")

# Documented although the engine does not send or emit them (yet).
COMMANDS_NOT_OFFERED: set[str] = set()

# f-string note keys in smtp.py, and the values their blank takes.
DYNAMIC_NOTE_KEYS = {"obsolete-{verb.lower()}": [verb.lower() for verb in OBSOLETE]}

_NOTE_CALL = re.compile(r"""_note\(\s*(f?)(["'])smtp\.(?P<key>[^"']+)\2""")


def _assert_bilingual(entry: object, where: str) -> None:
    assert isinstance(entry, dict), f"{where}: missing"
    for lang in LANGUAGES:
        text = entry.get(lang)
        assert isinstance(text, str) and text.strip(), f"{where}: no {lang!r} text"
    assert entry["en"].strip() != entry["es"].strip(), f"{where}: Spanish text is a copy of the English"


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def emitted_notes() -> dict[str, set[str]]:
    """Every note key smtp.py emits (without "smtp.") -> the params passed with it.

    The regex finds the keys as written; the AST gives the keyword arguments of the
    same calls. Both must see the same calls, so neither can silently miss one.
    """
    source = inspect.getsource(smtp)
    by_regex: dict[int, tuple[bool, str]] = {}
    for match in _NOTE_CALL.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        by_regex[line] = (match.group(1) == "f", match.group("key"))
    by_ast: dict[int, set[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_note":
            by_ast[node.lineno] = {kw.arg for kw in node.keywords if kw.arg}
    assert set(by_regex) == set(by_ast), (
        "every _note(...) call in smtp.py must name its key as a literal \"smtp.<key>\" string: "
        f"lines {sorted(set(by_ast) ^ set(by_regex))}"
    )
    notes: dict[str, set[str]] = {}
    for line, (is_fstring, key) in by_regex.items():
        if is_fstring:
            assert key in DYNAMIC_NOTE_KEYS, f"smtp.py:{line}: teach this test the values of note key {key!r}"
            keys = [key.replace(key[key.index("{") : key.index("}") + 1], value) for value in DYNAMIC_NOTE_KEYS[key]]
        else:
            keys = [key]
        for expanded in keys:
            notes.setdefault(expanded, set()).update(by_ast[line])
    return notes


def test_the_note_scan_finds_the_engine_notes() -> None:
    notes = emitted_notes()
    assert notes["relay-denied"] == {"address"}
    assert notes["out-of-sequence"] == {"verb", "state"}
    assert {f"obsolete-{verb.lower()}" for verb in OBSOLETE} <= set(notes)


# -- reply classes ------------------------------------------------------------------------


@pytest.mark.parametrize("reply_class", list(ReplyClass), ids=str)
def test_every_reply_class_has_a_common_explanation(reply_class: ReplyClass) -> None:
    _assert_bilingual(COMMON.get("classes", {}).get(reply_class.value), f"common classes.{reply_class.value}")


@pytest.mark.parametrize("first_digit", "2345")
def test_every_smtp_digit_class_has_smtp_wording(first_digit: str) -> None:
    reply_class = ReplyClass.of_smtp(int(first_digit + "00"))
    entry = SMTP["classes"].get(reply_class.value)
    _assert_bilingual(entry, f"smtp classes.{reply_class.value}")
    for lang in LANGUAGES:
        assert f"{first_digit}yz" in entry[lang], f"classes.{reply_class.value}.{lang} should name {first_digit}yz"


def test_class_tables_name_only_real_reply_classes() -> None:
    values = {c.value for c in ReplyClass}
    assert set(COMMON["classes"]) <= values
    assert set(SMTP["classes"]) <= values


# -- replies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SmtpReplies.all(), ids=lambda spec: spec.key)
def test_every_reply_is_explained_with_a_next_step(spec) -> None:
    entry = SMTP["replies"].get(spec.key)
    _assert_bilingual(entry, f"replies.{spec.key}")
    assert entry.get("code") == spec.code, f"replies.{spec.key}: code {entry.get('code')!r}, engine sends {spec.code}"
    _assert_bilingual(entry.get("next"), f"replies.{spec.key}.next")
    if spec.enhanced and spec.code[0] in "45":
        # Failures say which enhanced code they are, so students learn to read it.
        for lang in LANGUAGES:
            assert spec.enhanced in entry[lang], f"replies.{spec.key}.{lang} should mention {spec.enhanced}"


def test_no_explanation_for_a_reply_the_engine_does_not_have() -> None:
    assert set(SMTP["replies"]) == {spec.key for spec in SmtpReplies.all()}


def test_reply_texts_have_no_format_braces() -> None:
    """Reply explanations are shown as they are, so a brace would be printed literally."""
    for key, entry in SMTP["replies"].items():
        for text in (entry["en"], entry["es"], entry["next"]["en"], entry["next"]["es"]):
            assert "{" not in text and "}" not in text, f"replies.{key}"


# -- commands and states ------------------------------------------------------------------------


@pytest.mark.parametrize("verb", sorted(SmtpSession.COMMANDS) + list(OBSOLETE))
def test_every_command_is_explained(verb: str) -> None:
    _assert_bilingual(SMTP["commands"].get(verb), f"commands.{verb}")


def test_obsolete_commands_say_rfc_5321_removed_them() -> None:
    for verb in OBSOLETE:
        for lang in LANGUAGES:
            text = SMTP["commands"][verb][lang]
            assert "RFC 821" in text and "RFC 5321" in text, f"commands.{verb}.{lang}"


def test_only_known_commands_are_explained() -> None:
    assert set(SMTP["commands"]) == set(SmtpSession.COMMANDS) | set(OBSOLETE) | COMMANDS_NOT_OFFERED
    assert not COMMANDS_NOT_OFFERED & set(SmtpSession.COMMANDS), "now implemented: drop it from COMMANDS_NOT_OFFERED"


@pytest.mark.parametrize("state", list(SmtpState), ids=lambda state: state.value)
def test_every_state_is_named_and_explained(state: SmtpState) -> None:
    entry = SMTP["states"].get(state.value)
    _assert_bilingual(entry, f"states.{state.value}")
    _assert_bilingual(entry.get("name"), f"states.{state.value}.name")


@pytest.mark.parametrize("state", list(SmtpState), ids=lambda state: state.value)
def test_state_text_lists_the_commands_the_transition_table_allows(state: SmtpState) -> None:
    verbs = [verb for verb in valid_commands(TRANSITIONS, state) if not verb.startswith("<")]
    for lang in LANGUAGES:
        text = SMTP["states"][state.value][lang]
        missing = [verb for verb in verbs if not re.search(rf"\b{verb}\b", text)]
        assert not missing, f"states.{state.value}.{lang} does not mention {missing}"


def test_only_real_states_are_explained() -> None:
    assert set(SMTP["states"]) == {state.value for state in SmtpState}


# -- notes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(emitted_notes()))
def test_every_emitted_note_is_explained_with_its_params(key: str) -> None:
    entry = SMTP["notes"].get(key)
    _assert_bilingual(entry, f"notes.{key}")
    params = emitted_notes()[key]
    for lang in LANGUAGES:
        unknown = _placeholders(entry[lang]) - params
        assert not unknown, f"notes.{key}.{lang} uses {unknown}, but the engine passes only {params or 'nothing'}"
    assert _placeholders(entry["en"]) == _placeholders(entry["es"]), f"notes.{key}: en and es use different blanks"


def test_no_explanation_for_a_note_nobody_emits() -> None:
    emitted = set(emitted_notes())
    assert set(SMTP["notes"]) == emitted


# -- through the Explainer, on what a real session produces --------------------------------------


def _run_session(store: MailStore, lines: list[str]) -> list:
    session = SmtpSession(store, session_id="t-explain", config=SessionConfig(hostname="mailsim.test", max_errors=50))
    session.start()
    for line in lines:
        session.receive_data(line.encode("utf-8") + b"\r\n")
    return session.events()


def test_explainer_covers_a_whole_session(store: MailStore) -> None:
    events = _run_session(
        store,
        [
            "MAIL FROM:<alice@mailsim.test>",
            "EHLO client.example",
            "VRFY bob",
            "EXPN staff",
            "TURN",
            "RCPT TO:<bob@mailsim.test>",
            "MAIL FROM:alice@mailsim.test",
            "RCPT TO:<nobody@mailsim.test>",
            "RCPT TO:<carol@elsewhere.example>",
            "RCPT TO:<bob@mailsim.test>",
            "DATA",
            "Subject: hi",
            "",
            "hello",
            ".",
            "QUIT",
        ],
    )
    replies = [event for event in events if isinstance(event, Reply)]
    notes = [event for event in events if isinstance(event, Note)]
    assert {"need-ehlo", "no-such-user", "relay-denied", "queued", "bye"} <= {reply.key for reply in replies}
    assert {"smtp.out-of-sequence", "smtp.relay-denied", "smtp.obsolete-turn"} <= {note.key for note in notes}
    for lang in LANGUAGES:
        explainer = Explainer(lang)
        for reply in replies:
            explanation = explainer.reply(Protocol.SMTP, reply.key, reply.code, reply.reply_class)
            assert explanation.meaning and explanation.next_step and explanation.reply_class, reply.key
        for note in notes:
            text = explainer.note(Protocol.SMTP, note.key, note.params)
            assert text and "{" not in text, f"{note.key} ({lang}): {text!r}"
        assert "carol@elsewhere.example" in explainer.note(
            Protocol.SMTP, "smtp.relay-denied", (("address", "carol@elsewhere.example"),)
        )


def test_explainer_speaks_spanish() -> None:
    explainer = Explainer("es")
    explanation = explainer.reply(Protocol.SMTP, "no-such-user", "550", ReplyClass.PERMANENT)
    assert "buzón" in explanation.meaning
    assert "destinatario" in explanation.next_step
    assert "5yz" in explanation.reply_class
    assert explainer.state(Protocol.SMTP, "mail")[0] == "Remitente indicado"
    assert "sobre" in explainer.command(Protocol.SMTP, "mail")
    assert "mailsim" not in explainer.reply_class(ReplyClass.BAD)  # the common text, not SMTP's
    assert "IMAP" in explainer.reply_class(ReplyClass.BAD)
