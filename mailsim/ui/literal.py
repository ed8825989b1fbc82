"""Ctrl+O in an IMAP session: the editor's text becomes a literal of the typed command.

Typing `a APPEND INBOX {342}` by hand means counting octets. The student types the
command ending in `{}` (or only the command) and writes the text in the editor; the
octets are counted as the wire carries them (UTF-8, each line end a CRLF), and the
command goes out with `{n}`. A synchronizing literal, not LITERAL+: the student then
sees the server's `+` continuation before the text, which is what RFC 3501 §7.5 is
about, and a refusal (NO, BAD) stops the text from being sent at all.
"""

from __future__ import annotations

from dataclasses import dataclass

PLACEHOLDER = "{}"
DEFAULT_COMMAND = "a APPEND INBOX"


@dataclass(frozen=True)
class LiteralCommand:
    head: str   # the command before the literal: "a APPEND INBOX"
    tail: str   # what follows the literal on its line ("" for APPEND)

    @classmethod
    def from_typed(cls, typed: str) -> "LiteralCommand":
        """The input line as typed: `a APPEND INBOX {}`, `a APPEND INBOX`, or nothing."""
        typed = typed.strip() or DEFAULT_COMMAND
        head, found, tail = typed.partition(PLACEHOLDER)
        if not found:
            return cls(typed, "")
        return cls(head.rstrip(), tail)

    @property
    def is_message(self) -> bool:
        """APPEND carries a message: its text always ends with a line end."""
        words = self.head.split()
        return len(words) >= 2 and words[1].upper() == "APPEND"

    def literal(self, text: str) -> bytes:
        """The octets of the literal for the editor's text: CRLF line ends, UTF-8."""
        text = text.replace("\r\n", "\n")
        if self.is_message and text and not text.endswith("\n"):
            text += "\n"
        return text.replace("\n", "\r\n").encode("utf-8")

    def first_line(self, text: str) -> str:
        """The command line that announces the literal: `a APPEND INBOX {342}`."""
        return f"{self.head} {{{len(self.literal(text))}}}"

    def lines_after(self, text: str) -> list[str]:
        """What follows the server's `+`, as telnet lines (each sent with CRLF): the
        literal's lines, the last one running on into the rest of the command."""
        wire = self.literal(text).decode("utf-8") + self.tail
        return wire.split("\r\n")
