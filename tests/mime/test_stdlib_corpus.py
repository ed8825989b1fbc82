"""The model against the stdlib's own e-mail test corpus.

Each message is parsed twice, by the stdlib (policy default) and by the
model; the trees must have the same shape, types, section numbers, raw
payload bytes and decoded content.
"""

from __future__ import annotations

import email
import email.policy
import os
from pathlib import Path

import pytest

from mailsim.mime import MimeNode, build_model


def _corpus_dir() -> Path | None:
    try:
        import test.test_email as stdlib_email_tests
    except ImportError:
        return None
    data = Path(os.path.dirname(stdlib_email_tests.__file__)) / "data"
    return data if data.is_dir() else None


CORPUS = _corpus_dir()
MESSAGES = sorted(CORPUS.glob("msg_*.txt")) if CORPUS else []


def _stdlib_children(message) -> list:
    if message.get_content_type() == "message/delivery-status":
        return []  # a leaf in the model (and in IMAP)
    if message.is_multipart():
        return list(message.get_payload())
    return []


def _stdlib_walk(message, prefix: str = "", is_message: bool = True, number: str = ""):
    """The stdlib tree with RFC 3501 section numbers computed independently."""
    join = lambda a, b: f"{a}.{b}" if a else b  # noqa: E731
    children = _stdlib_children(message)
    if is_message:
        part_number = None if (message.get_content_maintype() == "multipart" and children) else join(number, "1")
    else:
        part_number = number
    yield message, part_number, is_message
    if message.get_content_maintype() == "message" and children:
        inner = join(number, "1") if is_message else number
        yield from _stdlib_walk(children[0], is_message=True, number=inner)
    else:
        for index, child in enumerate(children, 1):
            yield from _stdlib_walk(child, is_message=False, number=join(number, str(index)))


def _divergent_multipart(node: MimeNode) -> bool:
    """Broken multiparts whose body the model keeps whole (see model docstring)."""
    return node.maintype == "multipart" and not node.children


@pytest.fixture(params=MESSAGES, ids=lambda p: p.name)
def corpus_message(request) -> bytes:
    return request.param.read_bytes()


pytestmark = pytest.mark.skipif(not MESSAGES, reason="this Python ships no test.test_email data")


def test_tree_matches_stdlib_walk(corpus_message: bytes) -> None:
    stdlib = email.message_from_bytes(corpus_message, policy=email.policy.default)
    model = build_model(corpus_message)
    expected = list(_stdlib_walk(stdlib))
    nodes = list(model.walk())
    assert [(m.get_content_type(), number, is_msg) for m, number, is_msg in expected] == [
        (n.content_type, n.part_number, n.is_message) for n in nodes
    ]


def test_raw_payload_bytes_match_stdlib_split(corpus_message: bytes) -> None:
    stdlib = email.message_from_bytes(corpus_message, policy=email.policy.default)
    model = build_model(corpus_message)
    for (message, _, _), node in zip(_stdlib_walk(stdlib), model.walk(), strict=True):
        if node.children or message.is_multipart():
            continue
        stdlib_body = message.get_payload().encode("ascii", "surrogateescape")
        if _divergent_multipart(node):
            assert node.body_bytes.startswith(stdlib_body.rstrip(b"\r\n"))
        else:
            assert node.body_bytes == stdlib_body


def test_headers_match_stdlib(corpus_message: bytes) -> None:
    stdlib = email.message_from_bytes(corpus_message, policy=email.policy.default)
    model = build_model(corpus_message)
    for (message, _, _), node in zip(_stdlib_walk(stdlib), model.walk(), strict=True):
        assert [h.name for h in node.headers] == list(message.keys())


def test_decoded_payload_equals_get_content(corpus_message: bytes) -> None:
    stdlib = email.message_from_bytes(corpus_message, policy=email.policy.default)
    model = build_model(corpus_message)
    compared = 0
    for (message, _, _), node in zip(_stdlib_walk(stdlib), model.walk(), strict=True):
        if node.children or message.is_multipart() or _divergent_multipart(node):
            continue
        try:
            expected = message.get_content()
        except (KeyError, LookupError):
            continue  # the stdlib cannot decode this one
        assert node.payload == expected
        compared += 1
    assert compared or all(n.children or _divergent_multipart(n) for n in model.walk())


def test_byte_ranges_nest_and_cover_the_source(corpus_message: bytes) -> None:
    model = build_model(corpus_message)
    root = model.root
    assert (root.header_start, root.end) == (0, len(corpus_message))
    for node in model.walk():
        assert 0 <= node.header_start <= node.header_end <= node.body_start <= node.end <= len(corpus_message)
        assert corpus_message[node.body_start : node.end] == node.body_bytes
        if node.encapsulated is not None:
            inner = node.encapsulated
            assert (inner.header_start, inner.end) == (node.body_start, node.end)
        previous_end = node.body_start
        for child in node.children if node.is_multipart else ():
            assert previous_end <= child.header_start <= child.end <= node.end
            # Between two parts lies exactly one delimiter line (plus newline).
            between = corpus_message[previous_end : child.header_start]
            assert b"--" + node.boundary.encode() in between
            previous_end = child.end
