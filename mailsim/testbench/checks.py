"""Scripted server checks as data: what `mailsim check server` sends and expects.

A check is a short dialog on a fresh connection: steps that send a line (or several at
once, for pipelining, or exact bytes) and say which status each reply must have
(`250`, `5xx`, `503|554`, `+OK`, `-ERR`, `OK`, `NO|BAD`, `+`), optionally what the
reply must contain, or that the server must close. `${user}`, `${password}`,
`${sender}`, `${rcpt}` are filled from the options; `${#user}` is the length in
octets (for IMAP literals). A few checks that compare numbers across replies are code
(`special`). Built-in levels (`levels/*.toml`) and assignments use the same format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mailsim.lesson.loader import DataFileReader, Span
from mailsim.lesson.model import Text

CHECK_KEYS = {"id", "title", "why", "rfc", "steps", "special"}
STEP_KEYS = {"send", "raw", "expect", "multiline", "contains", "closes"}
SPECIALS = {"pop3-sizes"}
_STATUS = re.compile(r"^(\d[\dx]{2}|\+OK|-ERR|OK|NO|BAD|BYE|PREAUTH|\+)(\|(\d[\dx]{2}|\+OK|-ERR|OK|NO|BAD|BYE|PREAUTH|\+))*$")


@dataclass(frozen=True, slots=True)
class Step:
    send: str = ""                  # line(s) to send; each gets CRLF
    raw: str = ""                   # exact text to send (escapes as TOML writes them)
    expect: tuple[str, ...] = ()    # the status pattern of each reply to read, in order
    multiline: bool = False         # POP3: +OK followed by lines through a lone dot
    contains: str = ""              # a regular expression the (last) reply must match
    closes: bool = False            # the server must close the connection now


@dataclass(frozen=True, slots=True)
class CheckSpec:
    id: str
    title: Text
    why: Text
    rfc: str
    steps: tuple[Step, ...] = ()
    special: str = ""
    line: int = 0


def status_matches(pattern: str, status: str) -> bool:
    """`5xx|421` style patterns: x is any digit."""
    for alternative in pattern.split("|"):
        regex = re.escape(alternative).replace("x", r"\d")
        if re.fullmatch(regex, status):
            return True
    return False


class ChecksReader(DataFileReader):
    """Reads `[[checks]]` arrays with `file:line` problems (levels and assignments)."""

    def checks(self, value: Any, table: str = "checks") -> list[CheckSpec]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(self.lines.key(table) or 1, f"'{table}' must be an array of tables ([[{table}]])")
            return []
        found, ids = [], set()
        for index, (entry, span) in enumerate(zip(value, self.spans(table, len(value)))):
            spec = self.check(entry, index, span)
            if spec is None:
                continue
            if spec.id in ids:
                self.problem(span.start, f"check id {spec.id!r} is used twice")
            ids.add(spec.id)
            found.append(spec)
        return found

    def check(self, entry: Any, index: int, span: Span) -> CheckSpec | None:
        started = self.entry_start(entry, "check", index, span, CHECK_KEYS)
        if started is None:
            return None
        where, check_id = started
        title = self.text_of(entry.get("title"), "title", where, span)
        why = self.text_of(entry.get("why"), "why", where, span)
        rfc = self.string(entry, "rfc", where, span)
        special = self.string(entry, "special", where, span, required=False)
        if special and special not in SPECIALS:
            self.problem(self.key_line("special", span), f"{where}: unknown special check {special!r} ({', '.join(sorted(SPECIALS))})")
        steps = self.steps(entry.get("steps"), where, span) if "steps" in entry else []
        if not steps and not special:
            self.problem(span.start, f"{where} needs 'steps' (or a 'special' check)")
        if title is None or why is None:
            return None
        return CheckSpec(check_id, title, why, rfc, tuple(steps), special, span.start)

    def steps(self, value: Any, where: str, span: Span) -> list[Step]:
        line = self.key_line("steps", span)
        if not isinstance(value, list) or not value:
            self.problem(line, f"{where}: 'steps' must be a non-empty list of tables")
            return []
        steps = []
        for number, entry in enumerate(value, start=1):
            here = f"{where}, step {number}"
            if not isinstance(entry, dict):
                self.problem(line, f"{here} must be a table such as {{ send = \"NOOP\", expect = \"250\" }}")
                continue
            self.only(entry, STEP_KEYS, here, span)
            expect = entry.get("expect", [])
            expect = [expect] if isinstance(expect, str) else expect
            if not isinstance(expect, list) or not all(isinstance(e, str) and _STATUS.match(e) for e in expect):
                self.problem(
                    self.key_line("expect", span),
                    f"{here}: 'expect' must be a status pattern or a list of them (250, 5xx, 503|554, +OK, -ERR, OK, NO|BAD, +)",
                )
                expect = []
            send, raw = entry.get("send", ""), entry.get("raw", "")
            if not isinstance(send, str) or not isinstance(raw, str) or (send and raw):
                self.problem(line, f"{here}: give 'send' (lines) or 'raw' (exact text), as strings, not both")
                send, raw = "", ""
            contains = entry.get("contains", "")
            try:
                re.compile(contains)
            except (re.error, TypeError) as exc:
                self.problem(self.key_line("contains", span), f"{here}: 'contains' is not a regular expression: {exc}")
                contains = ""
            if not expect and not entry.get("closes"):
                self.problem(line, f"{here}: say what the server must answer ('expect') or that it closes ('closes = true')")
            steps.append(
                Step(send, raw, tuple(expect), bool(entry.get("multiline", False)), contains, bool(entry.get("closes", False)))
            )
        return steps
