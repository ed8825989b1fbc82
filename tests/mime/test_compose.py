"""The composer's message builder: structure, encodings, determinism, submission lines."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

import pytest

from mailsim.mime import build_model
from mailsim.mime.compose import Attachment, Draft, Submission, guess_content_type, smtp_submission

ODT = b"PK\x03\x04" + bytes(range(256)) * 4


def structure(raw: bytes) -> list[tuple[str, str]]:
    return [(node.label, node.content_type) for node in build_model(raw).walk()]


def draft(**changes) -> Draft:
    base = Draft(sender="Alice <alice@mailsim.test>", to="Bob <bob@mailsim.test>",
                 subject="Carta de presentación", text="Hola Bob,\nte mando la carta.\n",
                 date=datetime(2026, 9, 3, 10, 0, tzinfo=timezone.utc))
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_text_only_is_one_quoted_printable_part_with_encoded_subject() -> None:
    raw = draft(text="adiós\n").as_bytes()
    assert structure(raw) == [("1", "text/plain")]
    assert b"Subject: Carta de =?utf-8?q?presentaci=C3=B3n?=\r\n" in raw
    assert b"adi=C3=B3s" in raw and b"MIME-Version: 1.0\r\n" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["subject"] == "Carta de presentación"
    assert parsed.get_content() == "adiós\r\n"  # CRLF on the wire, as SMTP wants


def test_html_alternative_makes_multipart_alternative() -> None:
    raw = draft(html="<p>Hola <b>Bob</b></p>").as_bytes()
    assert structure(raw) == [("TEXT", "multipart/alternative"), ("1", "text/plain"), ("2", "text/html")]


def test_attachment_wraps_everything_in_mixed_and_is_base64() -> None:
    d = draft(html="<p>x</p>")
    d.attachments.append(Attachment("Carta.odt", ODT, guess_content_type("Carta.odt")))
    model = build_model(d.as_bytes())
    assert [(n.label, n.content_type) for n in model.walk()] == [
        ("TEXT", "multipart/mixed"), ("1", "multipart/alternative"), ("1.1", "text/plain"),
        ("1.2", "text/html"), ("2", "application/vnd.oasis.opendocument.text"),
    ]
    part = model.find("2")
    assert (part.transfer_encoding, part.disposition, part.filename) == ("base64", "attachment", "Carta.odt")
    assert part.payload == ODT
    # Only the message header carries MIME-Version (RFC 2045 §4).
    assert d.as_bytes().count(b"MIME-Version") == 1


def test_forwarded_message_is_message_rfc822_with_its_own_sections() -> None:
    inner = b"From: Bob <bob@mailsim.test>\r\nSubject: Hi\r\n\r\nHello\r\n"
    d = draft()
    d.forwarded.append(inner)
    model = build_model(d.as_bytes())
    assert [(n.label, n.content_type) for n in model.walk()] == [
        ("TEXT", "multipart/mixed"), ("1", "text/plain"), ("2", "message/rfc822"), ("2.1", "text/plain"),
    ]
    assert model.find("2.HEADER").header("subject") == "Hi"
    assert model.find("2").transfer_encoding in ("7bit", "8bit")


def test_an_eml_attachment_is_never_base64() -> None:
    d = draft()
    d.attachments.append(Attachment("x.eml", b"Subject: Hi\r\n\r\nbody\r\n", guess_content_type("x.eml")))
    part = build_model(d.as_bytes()).find("2")
    assert part.content_type == "message/rfc822" and part.transfer_encoding != "base64"
    assert part.encapsulated.header("subject") == "Hi"


def test_same_draft_same_bytes_and_boundaries_not_in_content() -> None:
    d = draft()
    d.attachments.append(Attachment("a.bin", ODT))
    first, second = d.as_bytes(), d.as_bytes()
    assert first == second
    boundary = build_model(first).root.boundary
    assert boundary and first.count(b"--" + boundary.encode()) == 3  # two delimiters + the close


def test_lines_are_crlf_and_short() -> None:
    d = draft(text="x" * 300)
    d.attachments.append(Attachment("a.bin", ODT * 10))
    raw = d.as_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_guess_content_type_follows_mimetypes() -> None:
    assert guess_content_type("Carta.odt") == "application/vnd.oasis.opendocument.text"
    assert guess_content_type("foto.PNG") == "image/png"
    assert guess_content_type("notes.txt") == "text/plain"
    assert guess_content_type("archive.tar.gz") == "application/octet-stream"
    assert guess_content_type("no-extension") == "application/octet-stream"


def test_attachment_from_path_reads_the_file(tmp_path) -> None:
    path = tmp_path / "topologia.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    attachment = Attachment.from_path(path)
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "topologia.png", "image/png", b"\x89PNG\r\n\x1a\n"
    )


@pytest.mark.parametrize("half_typed", ["bob@", "<", "Bob <bob@"])
def test_half_typed_address_is_a_problem_not_a_crash(half_typed: str) -> None:
    d = draft(to=half_typed)
    assert "To" in d.problems()
    raw = d.as_bytes()
    assert b"\r\nTo:" not in raw and not raw.startswith(b"To:")
    assert d.recipients == [] or "@" in d.recipients[0]


def test_empty_draft_still_builds() -> None:
    raw = Draft().as_bytes()
    assert structure(raw) == [("1", "text/plain")]


def test_submission_lines_dot_stuff_and_end_with_lone_dot() -> None:
    raw = b"Subject: x\r\n\r\n.hidden\r\nok\r\n"
    lines = smtp_submission(raw, "a@x.test", ["b@x.test", "c@x.test"], client_name="me.test")
    assert lines == [
        b"EHLO me.test", b"MAIL FROM:<a@x.test>", b"RCPT TO:<b@x.test>", b"RCPT TO:<c@x.test>", b"DATA",
        b"Subject: x", b"", b"..hidden", b"ok", b".",
    ]


def test_submission_of_a_draft_takes_envelope_from_headers() -> None:
    submission = Submission.of(draft(to="Bob <bob@mailsim.test>, carol@mailsim.test"))
    assert submission.sender == "alice@mailsim.test"
    assert submission.recipients == ("bob@mailsim.test", "carol@mailsim.test")
    assert submission.lines()[-1] == b"."
