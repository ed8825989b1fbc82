"""Client lines with their secrets blanked, for screens and logs others can see.

`mailsim watch` puts a real client's conversation on a screen (a classroom projector)
and in a wire log: a real password must not show there. What carries one is known from
the line's facts, not guessed: POP3 PASS, IMAP LOGIN's password, an AUTH / AUTHENTICATE
initial response and every SASL response (PLAIN holds the password in base64). The
recording keeps the bytes as they were (a replay needs them); this is for display only.
"""

from __future__ import annotations

from mailsim.events import ClientLine, LineKind, Protocol

HIDDEN = "••••••"


def without_secrets(line: ClientLine) -> bytes:
    """The line's bytes with any secret replaced by dots (the line end kept)."""
    data = line.data
    if line.line_kind == LineKind.SASL:
        return _blank(data, 0)
    if line.line_kind == LineKind.LITERAL and line.verb in ("LOGIN", "AUTHENTICATE"):
        return HIDDEN.encode()  # a user name or password sent as a literal
    if line.line_kind != LineKind.COMMAND:
        return data
    words = data.split(b" ")
    if line.protocol is Protocol.IMAP:
        # tag LOGIN user password / tag AUTHENTICATE mechanism initial-response
        if line.verb in ("LOGIN", "AUTHENTICATE") and len(words) > 3:
            return _blank(data, 3)
        return data
    if line.verb == "PASS" and len(words) > 1:
        return _blank(data, 1)
    if line.verb == "AUTH" and len(words) > 2:  # AUTH mechanism initial-response
        return _blank(data, 2)
    return data


def _blank(data: bytes, keep_words: int) -> bytes:
    """Keep the first `keep_words` words, dots for the rest, the line end as it was."""
    body = data.rstrip(b"\r\n")
    end = data[len(body):]
    kept = body.split(b" ")[:keep_words]
    return b" ".join([*kept, HIDDEN.encode()]) + end
