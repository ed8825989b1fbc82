"""Where a watched client's lines hold a secret, marked the way the engines mark them.

`mailsim watch` and `mailsim connect` put a real client's conversation on a screen (a
classroom projector), in a wire log and in a recording. The engines mark each
password or AUTH response in `ClientLine.secret`, so the wire log, read-only tabs,
reports and recordings mask it (`ClientLine.shown`, `transcript/secrets.py`); an
observer hears the same lines without being the server, and marks them with the same
rules: POP3 PASS, IMAP LOGIN's password, an AUTH / AUTHENTICATE initial response, and
every SASL response that carries a secret (PLAIN's and LOGIN's password, CRAM-MD5's
digest; not LOGIN's user name, not a "*" that cancels).
"""

from __future__ import annotations

from mailsim.events import LineKind, Protocol
from mailsim.protocol.base import command_secret
from mailsim.protocol.imap.parser import literal_at_end, may_hold_secret, secret_span
from mailsim.protocol.sasl import initial_response_form


class SecretMarks:
    """Follows one conversation's client lines and says where each holds a secret."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self._mechanism = ""
        self._responses = 0  # SASL responses so far in this exchange (initial one included)
        self._command = b""  # IMAP: the command so far, literals included
        self._continues = False  # IMAP: the next command line goes on after a literal
        self._may_hold = False  # IMAP: the command is a LOGIN or an AUTHENTICATE

    def mark(self, data: bytes, kind: LineKind, verb: str) -> tuple:
        if kind == LineKind.SASL:
            return self._sasl_response(data)
        if self.protocol is Protocol.IMAP and kind in (LineKind.COMMAND, LineKind.LITERAL):
            return self._imap_part(data, kind)
        if kind != LineKind.COMMAND:
            return ()
        self._start_exchange(data, verb, first_word=1)
        return command_secret(data)

    def _start_exchange(self, data: bytes, verb: str, *, first_word: int) -> None:
        words = data.rstrip(b"\r\n").split()
        if verb not in ("AUTH", "AUTHENTICATE") or len(words) <= first_word:
            return
        self._mechanism = words[first_word].decode("ascii", "replace").upper()
        self._responses = 1 if len(words) > first_word + 1 else 0

    def _sasl_response(self, data: bytes) -> tuple:
        self._responses += 1
        text = data.rstrip(b"\r\n").rstrip(b" ")
        if not text or text == b"*":
            return ()
        if self._mechanism == "LOGIN":
            form = "sasl-text" if self._responses >= 2 else ""  # the first is the user name
        else:
            form = initial_response_form(self._mechanism) or "sasl-text"
            if form == "text":
                form = "sasl-text"
        return (0, len(text), form) if form else ()

    def _imap_part(self, data: bytes, kind: LineKind) -> tuple:
        if kind == LineKind.COMMAND and not self._continues:
            self._command = b""
            self._may_hold = may_hold_secret(data)
            words = data.split(b" ", 3)
            if len(words) > 1:
                self._start_exchange(data, words[1].decode("ascii", "replace").upper(), first_word=2)
        # A command line is read without its line end, as the engine reads it; a
        # literal's octets are all content.
        text = data if kind == LineKind.LITERAL else data.rstrip(b"\r\n")
        self._continues = kind == LineKind.LITERAL or literal_at_end(text) is not None
        if not self._may_hold:
            return ()  # most commands (an APPEND's long literal): nothing kept, nothing copied
        prior = len(self._command)
        span = secret_span(self._command + text, initial_response_form)
        self._command += data
        if span is None or span[1] <= prior:
            return ()
        return (max(span[0] - prior, 0), span[1] - prior, span[2])
