"""The inspector's texts: every entry in both languages, the same placeholders,
a text for every defect the parser can report; and the pure helpers."""

from __future__ import annotations

import email.errors
import re
import string

from mailsim.mime import build_model
from mailsim.mime.model import Defect, _defect_code as _code
from mailsim.ui.inspector.describe import encoded_words, explain_node, hex_dump, html_to_text, node_kind
from mailsim.ui.inspector.texts import Texts, load_entries

from .samples import CARTA, FORWARDED, MALFORMED


def fields(text: str) -> set[str]:
    forms = text if isinstance(text, list) else [text]  # a list: plural forms
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def test_every_entry_is_in_english_and_spanish_with_the_same_placeholders() -> None:
    for key, texts in load_entries().items():
        assert texts.get("en") and texts.get("es"), key
        assert fields(texts["en"]) == fields(texts["es"]), key


def test_every_stdlib_defect_has_a_teaching_text() -> None:
    texts = Texts("es")
    for name in dir(email.errors):
        cls = getattr(email.errors, name)
        if isinstance(cls, type) and issubclass(cls, email.errors.MessageDefect) and cls is not email.errors.MessageDefect:
            code = Defect(code=_code(cls.__name__), kind=cls.__name__).code
            if code in ("header", "message"):
                continue  # base classes, never raised as such
            assert texts.has(f"defect.{code}"), code


def test_node_kinds_of_the_samples() -> None:
    carta = build_model(CARTA.read_bytes())
    assert [node_kind(n) for n in carta.walk()] == ["root", "text", "attachment"]
    forwarded = build_model(FORWARDED.read_bytes())
    assert [node_kind(n) for n in forwarded.walk()] == ["root", "text", "message", "root"]


def test_explanations_name_the_boundary_and_the_encoded_subject() -> None:
    root = build_model(CARTA.read_bytes()).root
    texts = [e.text for e in explain_node(root, Texts("en"))]
    assert any("--mixed_carta_8f2c41d7--" in text for text in texts)
    assert any("Carta de presentación" in text and "=?UTF-8?B?" in text for text in texts)
    assert encoded_words(root) == [
        ("Subject: =?UTF-8?B?Q2FydGEgZGUgcHJlc2VudGFjacOzbg==?=", "Carta de presentación")
    ]


def test_html_to_text_keeps_structure_and_drops_scripts() -> None:
    html = (
        "<html><head><style>p{}</style><script>alert(1)</script></head><body>"
        "<h1>Bolet&iacute;n</h1><p>Hola <b>Alice</b>,</p><ul><li>uno</li><li>dos</li></ul>"
        '<p><a href="https://mailsim.test/x">aqu\u00ed</a></p></body></html>'
    )
    assert html_to_text(html) == "Boletín\n\nHola Alice,\n\n• uno\n• dos\n\naquí <https://mailsim.test/x>"


def test_hex_dump_lines() -> None:
    assert hex_dump(b"PK\x03\x04hello", width=8) == [
        "00000000  50 4b 03 04 68 65 6c 6c  PK..hell",
        "00000008  6f                       o",
    ]
    assert len(hex_dump(bytes(1000), limit=64)) == 4


def test_malformed_defects_have_texts() -> None:
    model = build_model(MALFORMED)
    texts = Texts("en")
    codes = {d.code for n in model.walk() for d in (*n.defects, *n.payload_defects)}
    assert {"close-boundary-not-found", "invalid-base64-characters"} <= codes
    for code in codes:
        assert texts.has(f"defect.{code}")
    assert not re.search(r"\{\w+\}", texts("defect.invalid-header", detail="x"))
