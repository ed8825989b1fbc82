"""SASL made readable: the base64 of an AUTH/AUTHENTICATE exchange decoded beside the
wire text, in the student's own console only (shared logs and recordings keep the wire
as it was). What PLAIN and LOGIN "hide" in base64 is the password itself; CRAM-MD5's
answer is a digest, so there the decoded text shows why it is safer.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from mailsim.events import Protocol

# Mechanisms whose client responses carry the password itself.
PASSWORD_MECHANISMS = ("PLAIN", "LOGIN")


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str              # the decoded octets, control characters made visible
    password: bool = False  # this response carries a password


def decode_b64(text: str) -> str | None:
    text = text.strip()
    if text in ("", "=", "*"):
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    shown = raw.decode("utf-8", errors="replace")
    return "".join(chr(0x2400 + ord(c)) if ord(c) < 32 else c for c in shown)


class SaslTracker:
    """Follows one session's lines and says which carry base64 worth decoding."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.mechanism = ""
        self.responses = 0

    def client(self, line: bytes) -> Decoded | None:
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        words = text.split()
        command = words[1:] if self.protocol is Protocol.IMAP else words
        if len(command) >= 2 and command[0].upper() in ("AUTH", "AUTHENTICATE"):
            self.mechanism, self.responses = command[1].upper(), 0
            return self._response(command[2]) if len(command) > 2 else None
        if self.mechanism:
            return self._response(text)
        verb = command[0].upper() if command else ""
        if (verb == "PASS" and self.protocol is Protocol.POP3) or (verb == "LOGIN" and self.protocol is Protocol.IMAP):
            return Decoded("", password=True)  # no base64 at all: the password as typed
        return None

    def server(self, line: bytes) -> Decoded | None:
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        marker = "334 " if self.protocol is Protocol.SMTP else "+ "
        if self.mechanism and text.startswith(marker):
            shown = decode_b64(text[len(marker):])
            return Decoded(shown) if shown else None
        if self.mechanism and not (self.protocol is Protocol.IMAP and text.startswith("* ")):
            self.mechanism = ""  # the exchange ended (success, failure or cancel)
        return None

    def _response(self, text: str) -> Decoded | None:
        self.responses += 1
        shown = decode_b64(text)
        if shown is None:
            return None
        password = self.mechanism == "PLAIN" or (self.mechanism == "LOGIN" and self.responses >= 2)
        return Decoded(shown, password)
