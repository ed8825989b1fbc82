"""Build a message step by step, the way a mail client does, with the stdlib.

The composer screen keeps a ``Draft`` and shows ``Draft.as_bytes()`` through
the MIME model after every change, so the student watches the structure grow:
a text body is one text/plain entity; an HTML alternative turns it into
multipart/alternative; the first attachment or forwarded message wraps that
in multipart/mixed, and each file becomes a base64 part.

The message is built with ``email.message.EmailMessage`` (policy ``default``)
and serialised with CRLF line ends and 7-bit transfer encodings, so it can be
typed into an SMTP DATA command as it is.  Boundaries are derived from the
content instead of the stdlib's random ones: the same draft always gives the
same bytes (snapshots, replays), and a boundary never occurs in the content.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, getaddresses
from datetime import datetime
from pathlib import Path

__all__ = [
    "Attachment",
    "Draft",
    "Submission",
    "guess_content_type",
    "smtp_submission",
    "split_addresses",
]

#: Serialise as on the wire: CRLF, lines of at most 78 characters, 7-bit.
_WIRE_POLICY = email_policy.SMTP.clone(cte_type="7bit")
_CRLF = b"\r\n"


def guess_content_type(filename: str) -> str:
    """The MIME type of a file from its extension, as ``mimetypes`` guesses it;
    ``application/octet-stream`` (RFC 2046 §4.5.1) when it cannot tell."""
    guessed, encoding = mimetypes.guess_type(filename, strict=False)
    if guessed is None or encoding is not None:  # .gz, .bz2: the bytes are opaque
        return "application/octet-stream"
    return guessed


def split_addresses(text: str) -> list[str]:
    """The bare addresses of a To-like field (``"Bob <b@x>, c@y"`` -> two)."""
    return [address for _name, address in getaddresses([text]) if address]


@dataclass(frozen=True)
class Attachment:
    """A file to attach: its name, its bytes and its MIME type."""

    filename: str
    data: bytes = field(repr=False)
    content_type: str = "application/octet-stream"

    @classmethod
    def from_path(cls, path: str | Path) -> Attachment:
        """Read a file from disk; the type comes from its extension."""
        path = Path(path).expanduser()
        return cls(path.name, path.read_bytes(), guess_content_type(path.name))


@dataclass
class Draft:
    """The message being composed; every field may be empty."""

    sender: str = ""
    to: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[bytes] = field(default_factory=list)
    date: datetime | None = None
    message_id: str | None = None

    @property
    def recipients(self) -> list[str]:
        return split_addresses(self.to)

    @property
    def envelope_sender(self) -> str:
        found = split_addresses(self.sender)
        return found[0] if found else ""

    def problems(self) -> dict[str, str]:
        """Header fields that cannot be used as typed (``{"To": why}``); the
        message is built without them, as a half-typed address is normal."""
        found = {}
        for name, value in self._header_values():
            problem = _header_problem(name, value) if value else None
            if problem is not None:
                found[name] = problem
        return found

    def _header_values(self) -> list[tuple[str, str]]:
        return [(n, " ".join(v.split())) for n, v in (("From", self.sender), ("To", self.to), ("Subject", self.subject))]

    def build(self) -> EmailMessage:
        """The message as an ``EmailMessage`` (policy ``default``)."""
        message = EmailMessage(policy=email_policy.default)
        for name, value in self._header_values():
            if value and _header_problem(name, value) is None:
                message[name] = value
        if self.date is not None:
            message["Date"] = format_datetime(self.date)
        if self.message_id:
            message["Message-ID"] = self.message_id
        # The body first (text, then its HTML alternative), then what is attached.
        if self.text or not self.html:
            message.set_content(_lines(self.text), cte="quoted-printable")
            if self.html:
                message.add_alternative(_lines(self.html), subtype="html", cte="quoted-printable")
        else:
            message.set_content(_lines(self.html), subtype="html", cte="quoted-printable")
        for attachment in self.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            if maintype == "message":
                # RFC 2046 §5.2.1: message/rfc822 is never base64; attach it parsed.
                inner = message_from_bytes(attachment.data, policy=email_policy.default)
                message.add_attachment(inner, disposition="attachment", filename=attachment.filename)
                continue
            if maintype == "text":
                # Bytes keep the file exactly as it is (base64); no charset guessing.
                maintype, subtype = "application", "octet-stream"
                if attachment.content_type == "text/plain":
                    maintype, subtype = "text", "plain"
            message.add_attachment(
                attachment.data, maintype=maintype, subtype=subtype or "octet-stream",
                filename=attachment.filename, cte="base64",
            )
        for raw in self.forwarded:
            inner = message_from_bytes(raw, policy=email_policy.default)
            message.add_attachment(inner, disposition="inline")
        _tidy(message, self._salt())
        if "MIME-Version" not in message:
            message["MIME-Version"] = "1.0"
        return message

    def as_bytes(self) -> bytes:
        """The message exactly as it would be sent: CRLF line ends, 7-bit
        where the content allows (forwarded 8-bit messages stay 8-bit)."""
        return self.build().as_bytes(policy=_WIRE_POLICY)

    def _salt(self) -> str:
        digest = hashlib.sha256()
        for part in (self.sender, self.to, self.subject, self.text, self.html):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        for attachment in self.attachments:
            digest.update(attachment.filename.encode("utf-8", "surrogatepass") + b"\0" + attachment.data)
        for raw in self.forwarded:
            digest.update(raw)
        return digest.hexdigest()[:16]


def _header_problem(name: str, value: str) -> str | None:
    """Why the stdlib refuses this value for this field, or None."""
    try:
        header = email_policy.default.header_factory(name, value)
    except Exception as exc:  # the address parser can fail with IndexError too
        return str(exc) or type(exc).__name__
    defects = getattr(header, "defects", ())
    if name != "Subject" and not getattr(header, "addresses", ()):
        return str(defects[0]) if defects else "no address"
    return None


def _lines(text: str) -> str:
    """Text with a final line end, as set_content expects."""
    text = text.replace("\r\n", "\n")
    return text if text.endswith("\n") else text + "\n"


def _tidy(message: EmailMessage, salt: str) -> None:
    """Give every multipart a content-derived boundary, and drop the
    MIME-Version the stdlib copies into body parts (RFC 2045 §4 wants it in
    the message header only).  Forwarded messages are left as they came."""
    stack: list[MIMEPart] = [message]
    number = 0
    while stack:
        part = stack.pop()
        if part is not message:
            del part["MIME-Version"]
        if part.get_content_maintype() == "multipart":
            number += 1
            part.set_boundary(f"=_mailsim_{salt}_{number}")
            stack.extend(reversed(list(part.iter_parts())))


def smtp_submission(
    raw: bytes, sender: str, recipients: Sequence[str], *, client_name: str = "composer.mailsim.test"
) -> list[bytes]:
    """The lines a client types to send ``raw`` (RFC 5321 §3.3), without CRLF:
    EHLO, MAIL FROM, one RCPT TO per recipient, DATA, the message with each
    line starting with a dot doubled (§4.5.2), and the lone dot."""
    lines = [
        b"EHLO " + client_name.encode("ascii"),
        b"MAIL FROM:<" + sender.encode("utf-8") + b">",
        *(b"RCPT TO:<" + rcpt.encode("utf-8") + b">" for rcpt in recipients),
        b"DATA",
    ]
    body = raw.replace(b"\r\n", b"\n").split(b"\n")
    if body and body[-1] == b"":
        body.pop()
    lines.extend(b"." + line if line.startswith(b".") else line for line in body)
    lines.append(b".")
    return lines


@dataclass(frozen=True)
class Submission:
    """A composed message ready to go: the envelope and the octets."""

    sender: str
    recipients: tuple[str, ...]
    raw: bytes = field(repr=False)

    @classmethod
    def of(cls, draft: Draft) -> Submission:
        return cls(draft.envelope_sender, tuple(draft.recipients), draft.as_bytes())

    def lines(self, client_name: str = "composer.mailsim.test") -> list[bytes]:
        return smtp_submission(self.raw, self.sender, self.recipients, client_name=client_name)
