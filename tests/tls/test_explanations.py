"""Every TLS teaching note the shared session emits is explained, in both languages,
for each protocol (they live once, in common.toml)."""

from __future__ import annotations

import inspect
import re

import pytest

from mailsim.events import Protocol
from mailsim.protocol import base
from mailsim.protocol.explain import Explainer, load_explanations

KEYS = sorted(set(re.findall(r'_note\("(tls\.[a-z-]+)"', inspect.getsource(base))))


def test_the_shared_session_emits_tls_notes():
    assert KEYS == ["tls.handshake-failed", "tls.hello-on-cleartext", "tls.pipelined-discarded"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("protocol", list(Protocol))
def test_each_tls_note_is_explained_in_both_languages(key, protocol):
    entry = load_explanations("common")["notes"][key]
    assert entry["en"].strip() and entry["es"].strip() and entry["en"] != entry["es"]
    for lang in ("en", "es"):
        text = Explainer(lang).note(protocol, key, (("octets", "17"), ("reason", "WRONG_VERSION_NUMBER")))
        assert text == entry[lang].format(octets="17", reason="WRONG_VERSION_NUMBER")
