"""Verdicts and reports: what the testbench found, in both languages.

A verdict is one check: passed, failed or a warning, with the exchange that shows it
(`C:`/`S:` lines), why it matters and the RFC section. A report is the list of
verdicts of one run; the renderers in `report.py` turn it into a terminal report,
Markdown, HTML, JUnit XML or JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from mailsim.lesson.model import Text


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"  # worth knowing, not wrong enough to fail the exercise


@dataclass(frozen=True, slots=True)
class Verdict:
    check: str                     # a stable id: "smtp.closing", "rfc821.rcpt-before-mail"
    status: Status
    title: Text                    # what was checked
    detail: Text                   # what happened, this time
    why: Text                      # why it matters
    rfc: str = ""                  # "RFC 5321 §4.1.1.4"
    exchange: tuple[str, ...] = ()  # the C:/S: lines that show it
    conversation: int = 0          # which client conversation (1-based; 0: not about one)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL


@dataclass(frozen=True, slots=True)
class Report:
    kind: str                      # "client" or "server"
    subject: str                   # the client's protocol ("SMTP") or the server's URL
    verdicts: tuple[Verdict, ...]
    title: Text | None = None      # the assignment's title, when there is one
    level: str = ""                # the built-in level or assignment id
    duration: float = 0.0
    notes: tuple[str, ...] = field(default=())  # facts of the run ("listened on 127.0.0.1:2525")
    transcripts: tuple[tuple[str, ...], ...] = ()  # each client conversation as C:/S: lines

    @property
    def passed(self) -> bool:
        return not any(v.failed for v in self.verdicts)

    def count(self, status: Status) -> int:
        return sum(1 for v in self.verdicts if v.status is status)
