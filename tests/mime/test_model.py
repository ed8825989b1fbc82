"""The model on hand-made messages, broken ones, and generated ones."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsim.mime import MAX_DEPTH, build_model
from mailsim.mime.imap import bodystructure, envelope, section_bytes


def codes(node) -> list[str]:
    return [defect.code for defect in node.defects]


def test_empty_message_is_one_empty_text_part() -> None:
    model = build_model(b"")
    root = model.root
    assert (root.content_type, root.part_number, root.size, root.children) == ("text/plain", "1", 0, ())
    assert root.payload == ""


def test_missing_blank_line_is_a_defect_and_body_starts_at_first_non_header() -> None:
    raw = b"Subject: x\r\nthis is body\r\n"
    root = build_model(raw).root
    assert "missing-header-body-separator" in codes(root)
    assert root.body_bytes == b"this is body\r\n"
    assert root.header_bytes == b"Subject: x\r\n"


def test_byte_offsets_point_at_the_parts() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\npreamble\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue\r\n"
    )
    model = build_model(raw)
    first, second = model.root.children
    assert raw[first.header_start : first.header_end] == b"Content-Type: text/plain\r\n"
    assert raw[first.body_start : first.end] == b"one"
    assert (second.header_start, second.header_end, raw[second.body_start : second.end]) == (
        second.header_start, second.header_start, b"two"
    )
    assert raw[slice(*model.root.preamble)] == b"preamble"
    assert raw[slice(*model.root.epilogue)] == b"epilogue\r\n"


def test_missing_close_boundary_still_gives_parts() -> None:
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n'
    root = build_model(raw).root
    assert [child.body_bytes for child in root.children] == [b"one", b"two\r\n"]
    assert "close-boundary-not-found" in codes(root)


def test_boundary_never_seen_leaves_a_leaf_with_defect() -> None:
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\nno parts here\r\n'
    root = build_model(raw).root
    assert root.children == ()
    assert {"start-boundary-not-found", "multipart-invariant-violation"} <= set(codes(root))
    # The whole body is one headerless text/plain part 1, as BODY[1] returns it.
    assert bodystructure(build_model(raw)).startswith(b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 1')


def test_outer_boundary_ends_an_unclosed_inner_multipart() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="out"\r\n\r\n'
        b'--out\r\nContent-Type: multipart/alternative; boundary="in"\r\n\r\n--in\r\n\r\ninner\r\n'
        b"--out\r\n\r\nsecond\r\n--out--\r\n"
    )
    root = build_model(raw).root
    inner, second = root.children
    assert [c.body_bytes for c in inner.children] == [b"inner"]
    assert "close-boundary-not-found" in codes(inner)
    assert second.body_bytes == b"second"


def test_bad_base64_is_tolerated_and_reported() -> None:
    raw = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD!!!RA\r\n"
    root = build_model(raw).root
    assert isinstance(root.payload, bytes)
    assert root.payload_defects


def test_unknown_charset_decodes_as_utf8_with_replacement() -> None:
    raw = "Content-Type: text/plain; charset=x-nonexistent\r\n\r\nné\r\n".encode()
    root = build_model(raw).root
    assert root.charset == "x-nonexistent"
    assert root.payload == "né\r\n"


def test_text_payload_decoded_by_charset_and_transfer_encoding() -> None:
    raw = (
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n"
    )
    assert build_model(raw).root.payload == "café\r\n"


def test_raw_8bit_header_is_decoded_as_utf8() -> None:
    raw = "Subject: Café ñ\r\nFrom: José <j@x.es>\r\n\r\nhi\r\n".encode()
    root = build_model(raw).root
    assert root.header("subject") == "Café ñ"
    assert root.raw_header("subject") == "Café ñ".encode()


def test_rfc2047_and_rfc2231_are_decoded_on_the_node() -> None:
    raw = (
        b"Subject: =?utf-8?q?Carta_de_presentaci=C3=B3n?=\r\n"
        b"Content-Type: application/pdf\r\n"
        b"Content-Disposition: attachment;\r\n filename*0*=utf-8''%E2%82%AC%20rates;\r\n filename*1=\".pdf\"\r\n"
        b"Content-Language: es\r\nContent-ID: <x@y>\r\nContent-Description: =?utf-8?q?Presupuesto_=E2=82=AC?=\r\n"
        b"\r\nAAAA"
    )
    root = build_model(raw).root
    assert root.header("Subject") == "Carta de presentación"
    assert (root.disposition, root.filename) == ("attachment", "€ rates.pdf")
    assert (root.language, root.content_id, root.description) == ("es", "<x@y>", "Presupuesto €")
    assert [h.name for h in root.headers][:2] == ["Subject", "Content-Type"]
    assert root.headers[2].raw.startswith(b"Content-Disposition: attachment;\r\n filename*0*")


def _nested(depth: int) -> bytes:
    lines = []
    for level in range(depth):
        lines += [b'Content-Type: multipart/mixed; boundary="b%d"' % level, b"", b"--b%d" % level]
    lines += [b"", b"bottom"]
    lines += [b"--b%d--" % level for level in reversed(range(depth))]
    return b"\r\n".join(lines) + b"\r\n"


def test_hundred_deep_nesting_is_a_tree_with_the_right_numbers() -> None:
    model = build_model(_nested(100))
    nodes = list(model.walk())
    assert len(nodes) == 101
    deepest = nodes[-1]
    assert deepest.depth == 100
    assert deepest.part_number == ".".join(["1"] * 100)
    assert deepest.payload == "bottom"
    assert section_bytes(model.raw, model, deepest.part_number) == b"bottom"


def test_nesting_beyond_the_limit_stops_with_a_defect() -> None:
    model = build_model(_nested(MAX_DEPTH + 5))
    deepest = list(model.walk())[-1]
    assert deepest.depth == MAX_DEPTH
    assert "nesting-too-deep" in codes(deepest)


def test_digest_children_default_to_message_rfc822() -> None:
    raw = (
        b'Content-Type: multipart/digest; boundary="d"\r\n\r\n'
        b"--d\r\n\r\nSubject: one\r\n\r\nfirst\r\n--d--\r\n"
    )
    model = build_model(raw)
    part = model.root.children[0]
    assert part.content_type == "message/rfc822"
    assert part.encapsulated.header("subject") == "one"
    assert part.encapsulated.part_number == "1.1"


def test_core_imports_no_textual_or_asyncio() -> None:
    code = (
        "import sys, mailsim.mime, mailsim.mime.imap; "
        "bad = [m for m in ('textual', 'asyncio') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- generated messages -----------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_categories=("Cs", "Cc")), max_size=30
)


@st.composite
def _messages(draw, depth: int = 0) -> EmailMessage:
    message = EmailMessage()
    if draw(st.booleans()):
        message["Subject"] = draw(_header_text)
    kind = draw(st.sampled_from(["text", "binary", "multipart", "rfc822"] if depth < 3 else ["text", "binary"]))
    if kind == "text":
        message.set_content(draw(_text), subtype=draw(st.sampled_from(["plain", "html"])),
                            cte=draw(st.sampled_from([None, "quoted-printable", "base64", "8bit"])))
    elif kind == "binary":
        message.set_content(draw(st.binary(max_size=60)), "application", "octet-stream",
                            filename=draw(st.none() | _header_text.filter(lambda s: s.strip())))
    elif kind == "rfc822":
        message.set_content(draw(_messages(depth + 1)))
    else:
        message.make_mixed()
        # A drawn boundary: the generator's own would come from `random`.
        message.set_param("boundary", f"=={depth}_{draw(st.integers(0, 10**6))}==")
        for _ in range(draw(st.integers(0, 3))):
            message.attach(draw(_messages(depth + 1)))
    return message


@st.composite
def _corrupted(draw) -> bytes:
    raw = draw(_messages()).as_bytes(policy=email.policy.SMTP)
    if draw(st.booleans()) and raw:
        raw = raw[: draw(st.integers(0, len(raw)))]
    for _ in range(draw(st.integers(0, 3))):
        if not raw:
            break
        position = draw(st.integers(0, len(raw) - 1))
        raw = raw[:position] + draw(st.binary(min_size=1, max_size=8)) + raw[position + 1 :]
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corrupted())
def test_generated_and_corrupted_messages_never_raise(raw: bytes) -> None:
    model = build_model(raw)
    for node in model.walk():
        assert 0 <= node.header_start <= node.header_end <= node.body_start <= node.end <= len(raw)
        node.payload, node.headers, node.payload_defects  # noqa: B018 - must not raise
    assert bodystructure(model).startswith(b"(")
    assert envelope(model).startswith(b"(")
    for node in model.walk():
        for section in (node.part_number, node.header_section, node.text_section):
            if section:
                assert isinstance(section_bytes(raw, model, section), bytes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages())
def test_generated_messages_match_the_stdlib_tree(message: EmailMessage) -> None:
    raw = message.as_bytes(policy=email.policy.SMTP)
    stdlib = email.message_from_bytes(raw, policy=email.policy.default)
    expected = [part.get_content_type() for part in stdlib.walk()]
    assert [node.content_type for node in build_model(raw).walk()] == expected
