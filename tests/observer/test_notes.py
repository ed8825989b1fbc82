"""Every `dialog.*` note the observers and the client transports can emit is explained
in both languages, with no placeholder left unfilled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailsim.events import Protocol
from mailsim.protocol.explain import Explainer, load_explanations

SOURCES = [
    Path("mailsim/protocol/observer.py"), Path("mailsim/protocol/smtp_observer.py"),
    Path("mailsim/protocol/pop3_observer.py"), Path("mailsim/protocol/imap/observer.py"),
    Path("mailsim/transport/client.py"), Path("mailsim/transport/tap.py"),
]
ROOT = Path(__file__).resolve().parents[2]


def emitted_keys() -> set[str]:
    keys: set[str] = set()
    for source in SOURCES:
        text = (ROOT / source).read_text()
        keys |= set(re.findall(r'"dialog\.([a-z0-9-]+)"', text))
        keys |= set(re.findall(r'_not_allowed\(\s*"([a-z0-9-]+)"', text))
        keys |= {k for k in re.findall(r'problem = "dialog\.([a-z0-9-]+)"', text)}
    return keys


def test_the_sources_emit_the_notes_the_file_explains() -> None:
    keys = emitted_keys()
    assert {"encrypted", "tls-port", "other-protocol", "refused", "reply-without-command", "imap-unknown-tag"} <= keys
    assert keys == set(load_explanations("dialog")["notes"])


@pytest.mark.parametrize("lang", ["en", "es"])
def test_each_note_reads_in_both_languages(lang: str) -> None:
    params = (("line", "x"), ("host", "h"), ("port", "1"), ("error", "e"), ("seconds", "2"), ("side", "server"),
              ("expected", "POP3"), ("speaks", "IMAP"), ("reason", "r"), ("subject", "CN=x"), ("fingerprint", "AA:BB"),
              ("ca", "/ca.pem"), ("octets", "3"))
    for key in load_explanations("dialog")["notes"]:
        text = Explainer(lang).note(Protocol.IMAP, f"dialog.{key}", params)
        assert text and "{" not in text, key
