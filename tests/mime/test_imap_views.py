"""BODYSTRUCTURE, ENVELOPE and sections against hand-verified expectations.

Expected strings follow RFC 3501 §7.4.2; where the RFC leaves formatting
open they follow Dovecot's own test vectors (lib-imap test-imap-bodystructure,
whose messages are LF-only but whose sizes count CRLF: hence ``to_crlf``).
"""

from __future__ import annotations

import pytest

from mailsim.mime import build_model
from mailsim.mime.imap import (
    Section,
    SectionSyntaxError,
    bodystructure,
    envelope,
    imap_nstring,
    imap_string,
    parse_section,
    partial,
    section_bytes,
    to_crlf,
)


def crlf(text: str) -> bytes:
    return to_crlf(text.encode("utf-8"))


PLAIN = crlf(
    "From: user@domain.org\n"
    "Date: Sat, 24 Mar 2017 23:00:00 +0200\n"
    "Mime-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "body\n"
)

FORWARD = crlf(
    "From: user@domain.org\n"
    "Date: Sat, 24 Mar 2017 23:00:00 +0200\n"
    "Mime-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="foo bar"\n'
    "\n"
    "--foo bar\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "Content-ID: <A.frop.example.com>\n"
    "Content-Description: Container message\n"
    "\n"
    "See attached...\n"
    "\n"
    "--foo bar\n"
    "Content-Type: message/rfc822\n"
    "Content-ID: <B.frop.example.com>\n"
    "Content-Description: Forwarded\n"
    "\n"
    "From: user@domain.org\n"
    "Date: Sat, 24 Mar 2017 23:00:00 +0200\n"
    "Mime-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "body\n"
    "\n"
    "--foo bar--\n"
)

FORWARD_ENVELOPE = (
    b'("Sat, 24 Mar 2017 23:00:00 +0200" NIL ((NIL NIL "user" "domain.org")) '
    b'((NIL NIL "user" "domain.org")) ((NIL NIL "user" "domain.org")) NIL NIL NIL NIL NIL)'
)

MIXED_ATTACHMENT = crlf(
    "From: Alice <alice@mailsim.test>\n"
    "To: bob@mailsim.test\n"
    "Subject: Carta\n"
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="XyZ"\n'
    "\n"
    "This is a multi-part message in MIME format.\n"
    "--XyZ\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Te mando la carta.\n"
    "--XyZ\n"
    "Content-Type: application/vnd.oasis.opendocument.text; name=Carta.odt\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment; filename=Carta.odt\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
    "\n"
    "UEsDBAoAAAAAAA==\n"
    "--XyZ--\n"
)

ALTERNATIVE = crlf(
    "From: alice@mailsim.test\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=alt\n"
    "Content-Language: es, en\n"
    "\n"
    "--alt\n"
    "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
    "\n"
    "Hola\n"
    "--alt\n"
    "Content-Type: TEXT/HTML\n"
    "Content-Location: http://example.com/hola.html\n"
    "\n"
    "<p>Hola</p>\n"
    "\n"
    "--alt--\n"
)

RFC2231 = crlf(
    "MIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="b"\n'
    "\n"
    "--b\n"
    "Content-Type: application/pdf\n"
    "Content-Disposition: attachment;\n"
    " filename*0*=utf-8''%E2%82%AC%20rates;\n"
    " filename*1=\".pdf\"; size=4\n"
    "\n"
    "AAAA\n"
    "--b--\n"
)

NON_ASCII = crlf(
    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\n"
    'From: =?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <jose@example.es>\n'
    "Sender: \"Office \\\"Main\\\"\" <office@example.es>\n"
    "To: Team: ana@example.es, \"Luis, L.\" <luis@example.es>;, carlos@example.es (Carlos)\n"
    "Cc: undisclosed-recipients:;\n"
    "Subject: =?iso-8859-1?q?Carta_de_presentaci=F3n?=\n"
    "In-Reply-To: <a@b>\n"
    "Message-ID: <1234@example.es>\n"
    "\n"
    "Hola\n"
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            PLAIN, b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL)', id="plain"
        ),
        pytest.param(
            FORWARD,
            b'(("text" "plain" ("charset" "us-ascii") "<A.frop.example.com>" "Container message" "7bit" 17 1'
            b' NIL NIL NIL NIL)("message" "rfc822" NIL "<B.frop.example.com>" "Forwarded" "7bit" 133 '
            + FORWARD_ENVELOPE
            + b' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL) 6 NIL NIL NIL NIL)'
            b' "mixed" ("boundary" "foo bar") NIL NIL NIL)',
            id="rfc822-forward",
        ),
        pytest.param(
            MIXED_ATTACHMENT,
            b'(("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 18 0 NIL NIL NIL NIL)'
            b'("application" "vnd.oasis.opendocument.text" ("name" "Carta.odt") NIL NIL "base64" 16'
            b' "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "Carta.odt")) NIL NIL)'
            b' "mixed" ("boundary" "XyZ") NIL NIL NIL)',
            id="mixed-attachment",
        ),
        pytest.param(
            ALTERNATIVE,
            b'(("text" "plain" ("charset" "UTF-8" "format" "flowed") NIL NIL "7bit" 4 0 NIL NIL NIL NIL)'
            b'("TEXT" "HTML" ("charset" "us-ascii") NIL NIL "7bit" 13 1 NIL NIL NIL'
            b' "http://example.com/hola.html")'
            b' "alternative" ("boundary" "alt") NIL ("es" "en") NIL)',
            id="alternative",
        ),
        pytest.param(
            RFC2231,
            b'(("application" "pdf" NIL NIL NIL "7bit" 4 NIL ("attachment" ("size" "4" "filename*"'
            b' "utf-8\'\'%E2%82%AC%20rates.pdf")) NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)',
            id="rfc2231-filename",
        ),
        pytest.param(
            crlf('Content-Type: multipart/mixed; boundary="foo"\n\n'),
            b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)'
            b' "mixed" ("boundary" "foo") NIL NIL NIL)',
            id="multipart-without-parts",
        ),
    ],
)
def test_bodystructure(raw: bytes, expected: bytes) -> None:
    assert bodystructure(build_model(raw)) == expected


def test_body_is_bodystructure_without_extension_data() -> None:
    assert bodystructure(build_model(FORWARD), extended=False) == (
        b'(("text" "plain" ("charset" "us-ascii") "<A.frop.example.com>" "Container message" "7bit" 17 1)'
        b'("message" "rfc822" NIL "<B.frop.example.com>" "Forwarded" "7bit" 133 ' + FORWARD_ENVELOPE
        + b' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1) 6) "mixed")'
    )


def test_bodystructure_of_headerless_message_defaults_to_text_plain() -> None:
    assert bodystructure(build_model(b"\r\nhi\r\n")) == (
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 1 NIL NIL NIL NIL)'
    )


def test_envelope_plain() -> None:
    assert envelope(build_model(PLAIN)) == (
        b'("Sat, 24 Mar 2017 23:00:00 +0200" NIL ((NIL NIL "user" "domain.org"))'
        b' ((NIL NIL "user" "domain.org")) ((NIL NIL "user" "domain.org")) NIL NIL NIL NIL NIL)'
    )


def test_envelope_keeps_encoded_words_and_parses_groups() -> None:
    assert envelope(build_model(NON_ASCII)) == (
        b'("Mon, 7 Feb 1994 21:52:25 -0800 (PST)" "=?iso-8859-1?q?Carta_de_presentaci=F3n?="'
        b' (("=?utf-8?q?Jos=C3=A9_P=C3=A9rez?=" NIL "jose" "example.es"))'
        b' (("Office \\"Main\\"" NIL "office" "example.es"))'
        b' (("=?utf-8?q?Jos=C3=A9_P=C3=A9rez?=" NIL "jose" "example.es"))'
        b' ((NIL NIL "Team" NIL)(NIL NIL "ana" "example.es")("Luis, L." NIL "luis" "example.es")'
        b'(NIL NIL NIL NIL)("Carlos" NIL "carlos" "example.es"))'
        b' ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))'
        b' NIL "<a@b>" "<1234@example.es>")'
    )


def test_envelope_of_empty_message_is_all_nil() -> None:
    assert envelope(build_model(b"")) == b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"


def test_envelope_route_and_missing_domain() -> None:
    raw = crlf("From: <@relay.test,@hop.test:joe@example.com>\nTo: postmaster\n\n")
    assert envelope(build_model(raw)) == (
        b'(NIL NIL ((NIL "@relay.test,@hop.test" "joe" "example.com"))'
        b' ((NIL "@relay.test,@hop.test" "joe" "example.com"))'
        b' ((NIL "@relay.test,@hop.test" "joe" "example.com"))'
        b' ((NIL NIL "postmaster" "MISSING_DOMAIN")) NIL NIL NIL NIL)'
    )


def test_raw_8bit_header_becomes_a_literal() -> None:
    raw = "Subject: Café\r\n\r\n".encode()
    subject = "Café".encode()
    assert envelope(build_model(raw)).startswith(b"(NIL {%d}\r\n" % len(subject) + subject + b" NIL")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"plain", b'"plain"'),
        (b"", b'""'),
        (b'a "b" \\c', b'"a \\"b\\" \\\\c"'),
        (b'""""""', b'{6}\r\n""""""'),
        (b"two\r\nlines", b"{10}\r\ntwo\r\nlines"),
        ("ñ", b"{2}\r\n\xc3\xb1"),
    ],
)
def test_imap_string_quotes_or_uses_a_literal(value, expected) -> None:
    assert imap_string(value) == expected


def test_imap_nstring_nil() -> None:
    assert imap_nstring(None) == b"NIL"
    assert imap_nstring("") == b'""'


# -- sections ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Section()),
        ("HEADER", Section((), "HEADER")),
        ("text", Section((), "TEXT")),
        ("1", Section((1,))),
        ("2.1", Section((2, 1))),
        ("2.1.MIME", Section((2, 1), "MIME")),
        ("2.1.HEADER", Section((2, 1), "HEADER")),
        ("3.TEXT", Section((3,), "TEXT")),
        ("HEADER.FIELDS (From To)", Section((), "HEADER.FIELDS", ("From", "To"))),
        ("header.fields.not (Subject)", Section((), "HEADER.FIELDS.NOT", ("Subject",))),
        ('1.HEADER.FIELDS ("X-Odd Name" Date)', Section((1,), "HEADER.FIELDS", ("X-Odd Name", "Date"))),
    ],
)
def test_parse_section(text: str, expected: Section) -> None:
    assert parse_section(text) == expected


@pytest.mark.parametrize(
    "text", ["MIME", "0", "1.0", "01", "1..2", "HEADER.FIELDS", "HEADER.FIELDS ()", "BODY", "1.FOO", "TEXT.1"]
)
def test_parse_section_rejects(text: str) -> None:
    with pytest.raises(SectionSyntaxError):
        parse_section(text)


def test_section_str_is_canonical() -> None:
    assert str(parse_section("1.header.fields (from to)")) == "1.HEADER.FIELDS (FROM TO)"
    assert str(parse_section("2.1.mime")) == "2.1.MIME"


FORWARD_INNER = crlf(
    "From: user@domain.org\n"
    "Date: Sat, 24 Mar 2017 23:00:00 +0200\n"
    "Mime-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "body\n"
)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("", FORWARD),
        ("HEADER", FORWARD[: FORWARD.index(b"\r\n\r\n") + 4]),
        ("TEXT", FORWARD[FORWARD.index(b"\r\n\r\n") + 4 :]),
        ("1", b"See attached...\r\n"),
        (
            "1.MIME",
            b"Content-Type: text/plain; charset=us-ascii\r\nContent-ID: <A.frop.example.com>\r\n"
            b"Content-Description: Container message\r\n\r\n",
        ),
        ("2", FORWARD_INNER),
        ("2.HEADER", FORWARD_INNER[: FORWARD_INNER.index(b"\r\n\r\n") + 4]),
        ("2.TEXT", b"body\r\n"),
        ("2.1", b"body\r\n"),
        ("2.MIME", b"Content-Type: message/rfc822\r\nContent-ID: <B.frop.example.com>\r\nContent-Description: Forwarded\r\n\r\n"),
        ("HEADER.FIELDS (date FROM)", b"From: user@domain.org\r\nDate: Sat, 24 Mar 2017 23:00:00 +0200\r\n\r\n"),
        (
            "2.HEADER.FIELDS.NOT (From Mime-Version)",
            b"Date: Sat, 24 Mar 2017 23:00:00 +0200\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
        ),
        ("HEADER.FIELDS (X-Absent)", b"\r\n"),
        ("3", None),
        ("1.HEADER", None),
        ("1.1", None),
        ("2.2", None),
    ],
)
def test_section_bytes_of_forward(section: str, expected: bytes | None) -> None:
    assert section_bytes(FORWARD, build_model(FORWARD), section) == expected


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("1", b"body\r\n"),
        ("TEXT", b"body\r\n"),
        ("2", None),
        ("1.1", None),
        ("1.TEXT", None),
    ],
)
def test_section_bytes_of_non_multipart_message(section: str, expected: bytes | None) -> None:
    assert section_bytes(PLAIN, build_model(PLAIN), section) == expected


def test_section_bytes_accepts_parsed_section() -> None:
    model = build_model(MIXED_ATTACHMENT)
    # RFC 2046: the CRLF before a delimiter belongs to the delimiter.
    assert section_bytes(MIXED_ATTACHMENT, model, Section((2,))) == b"UEsDBAoAAAAAAA=="
    assert section_bytes(MIXED_ATTACHMENT, model, Section((1,))) == b"Te mando la carta."


def test_nested_rfc822_with_multipart_body_numbers() -> None:
    raw = crlf(
        'Content-Type: multipart/mixed; boundary="o"\n\n'
        "--o\nContent-Type: message/rfc822\n\n"
        'Subject: inner\nContent-Type: multipart/alternative; boundary="i"\n\n'
        "--i\n\nuno\n--i\nContent-Type: text/html\n\n<b>dos</b>\n--i--\n"
        "--o--\n"
    )
    model = build_model(raw)
    assert [(n.part_number, n.header_section, n.text_section) for n in model.walk()] == [
        (None, "HEADER", "TEXT"),
        ("1", "1.MIME", None),
        (None, "1.HEADER", "1.TEXT"),
        ("1.1", "1.1.MIME", None),
        ("1.2", "1.2.MIME", None),
    ]
    assert section_bytes(raw, model, "1.2") == b"<b>dos</b>"
    assert section_bytes(raw, model, "1.1.MIME") == b"\r\n"
    assert section_bytes(raw, model, "1.HEADER.FIELDS (SUBJECT)") == b"Subject: inner\r\n\r\n"


@pytest.mark.parametrize(
    ("origin", "count", "expected"),
    [(0, 4, b"body"), (2, None, b"dy\r\n"), (4, 10, b"\r\n"), (50, 3, b"")],
)
def test_partial(origin, count, expected) -> None:
    assert partial(b"body\r\n", origin, count) == expected


def test_partial_of_missing_section_is_empty() -> None:
    assert partial(None, 0, 10) == b""
