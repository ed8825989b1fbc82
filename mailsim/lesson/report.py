"""The lab report a student hands in: the lesson's steps, when each was done, hints
used, answers given, and the transcript of every session, in Markdown and HTML.

Both formats are rendered from one `LabReport` value, so they never disagree. The
transcript is the RFC style (`C:` / `S:`) the course material uses.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mailsim.events import ClientLine, Delivered, Event, ServerLine
from mailsim.lesson.model import Lesson
from mailsim.lesson.progress import LessonProgress
from mailsim.plurals import choose

_LABELS = {
    "es": {
        "report": "Informe de laboratorio",
        "student": "Estudiante",
        "lesson": "Lección",
        "date": "Fecha",
        "steps": "Pasos",
        "done": "hecho",
        "pending": "pendiente",
        "hints": ["pista usada", "pistas usadas"],
        "answers": "Respuestas",
        "answer": "Respuesta",
        "right": "correcta",
        "wrong": "incorrecta",
        "transcript": "Transcripción",
        "session": "Sesión",
        "delivered": "entregado a",
        "summary": "Resumen",
        "completed": "Pasos completados",
        "none": "(sin tráfico)",
    },
    "en": {
        "report": "Lab report",
        "student": "Student",
        "lesson": "Lesson",
        "date": "Date",
        "steps": "Steps",
        "done": "done",
        "pending": "pending",
        "hints": ["hint used", "hints used"],
        "answers": "Answers",
        "answer": "Answer",
        "right": "right",
        "wrong": "wrong",
        "transcript": "Transcript",
        "session": "Session",
        "delivered": "delivered to",
        "summary": "Summary",
        "completed": "Steps completed",
        "none": "(no traffic)",
    },
}


@dataclass(frozen=True)
class StepRow:
    title: str
    done_at: float
    hints: int
    answers: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class SessionLog:
    session_id: str
    protocol: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LabReport:
    lang: str
    lesson_id: str
    title: str
    summary: str
    student: str
    date: str
    steps: tuple[StepRow, ...]
    sessions: tuple[SessionLog, ...] = field(default=())

    @classmethod
    def build(
        cls, lesson: Lesson, progress: LessonProgress, transcript: Iterable[Event], *, lang: str = "es", student: str = ""
    ) -> "LabReport":
        rows = tuple(
            StepRow(
                title=step.title.get(lang),
                done_at=progress.completed.get(step.id, 0.0),
                hints=progress.hints.get(step.id, 0),
                answers=tuple((a.answer, a.correct) for a in progress.answers.get(step.id, [])),
            )
            for step in lesson.steps
        )
        when = progress.finished_at or progress.started_at
        date = datetime.fromtimestamp(when, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if when else ""
        return cls(
            lang=lang if lang in _LABELS else "es",
            lesson_id=lesson.id,
            title=lesson.title.get(lang),
            summary=lesson.summary.get(lang),
            student=student,
            date=date,
            steps=rows,
            sessions=_sessions(transcript, lang),
        )

    @property
    def labels(self) -> dict[str, Any]:
        """The report's words in its language (a list where a word has plural forms)."""
        return _LABELS[self.lang]

    @property
    def completed(self) -> int:
        return sum(1 for row in self.steps if row.done_at)

    def markdown(self) -> str:
        t = self.labels
        out = [f"# {t['report']}: {self.title}", ""]
        out.append(f"- **{t['student']}:** {self.student or '____________________'}")
        out.append(f"- **{t['lesson']}:** `{self.lesson_id}`")
        if self.date:
            out.append(f"- **{t['date']}:** {self.date}")
        out.append(f"- **{t['completed']}:** {self.completed}/{len(self.steps)}")
        out += ["", f"## {t['summary']}", "", self.summary.strip(), "", f"## {t['steps']}", ""]
        for number, row in enumerate(self.steps, 1):
            mark = "x" if row.done_at else " "
            extra = f" — {row.hints} {choose(t['hints'], self.lang, {'count': row.hints})}" if row.hints else ""
            out.append(f"{number}. [{mark}] {row.title}{extra}")
            for answer, correct in row.answers:
                out.append(f"   - {t['answer']}: “{answer}” ({t['right'] if correct else t['wrong']})")
        out += ["", f"## {t['transcript']}", ""]
        if not self.sessions:
            out.append(t["none"])
        for log in self.sessions:
            out += [f"### {t['session']} {log.session_id} ({log.protocol.upper()})", "", "```", *log.lines, "```", ""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        t = self.labels
        e = html.escape
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{self.lang}"><head><meta charset="utf-8">',
            f"<title>{e(t['report'])}: {e(self.title)}</title>",
            "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}"
            "pre{background:#f4f4f4;padding:.8em;overflow-x:auto}"
            ".done{color:#14692e}.pending{color:#8a5a00}.wrong{color:#a01616}</style>",
            "</head><body>",
            f"<h1>{e(t['report'])}: {e(self.title)}</h1>",
            "<ul>",
        ]
        parts.append(f"<li><b>{e(t['student'])}:</b> {e(self.student or '____________________')}</li>")
        parts.append(f"<li><b>{e(t['lesson'])}:</b> <code>{e(self.lesson_id)}</code></li>")
        if self.date:
            parts.append(f"<li><b>{e(t['date'])}:</b> {e(self.date)}</li>")
        parts.append(f"<li><b>{e(t['completed'])}:</b> {self.completed}/{len(self.steps)}</li></ul>")
        parts += [f"<h2>{e(t['summary'])}</h2>", f"<p>{e(self.summary.strip())}</p>", f"<h2>{e(t['steps'])}</h2>", "<ol>"]
        for row in self.steps:
            status = "done" if row.done_at else "pending"
            extra = f" — {row.hints} {e(choose(t['hints'], self.lang, {'count': row.hints}))}" if row.hints else ""
            parts.append(f'<li class="{status}">{"✔" if row.done_at else "…"} {e(row.title)} <small>({e(t[status])}{extra})</small>')
            if row.answers:
                parts.append("<ul>")
                for answer, correct in row.answers:
                    parts.append(f'<li class="{"right" if correct else "wrong"}">“{e(answer)}” — {e(t["right"] if correct else t["wrong"])}</li>')
                parts.append("</ul>")
            parts.append("</li>")
        parts += ["</ol>", f"<h2>{e(t['transcript'])}</h2>"]
        if not self.sessions:
            parts.append(f"<p>{e(t['none'])}</p>")
        for log in self.sessions:
            parts.append(f"<h3>{e(t['session'])} {e(log.session_id)} ({e(log.protocol.upper())})</h3>")
            parts.append("<pre>" + e("\n".join(log.lines)) + "</pre>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _sessions(transcript: Iterable[Event], lang: str) -> tuple[SessionLog, ...]:
    """Each session's traffic in the RFC style: `C: ` for the client, `S: ` for the server."""
    logs: dict[str, tuple[str, list[str]]] = {}
    delivered_to = _LABELS.get(lang, _LABELS["es"])["delivered"]
    for event in transcript:
        if isinstance(event, (ClientLine, ServerLine)):
            prefix = "C: " if isinstance(event, ClientLine) else "S: "
            _, lines = logs.setdefault(event.session_id, (event.protocol.value, []))
            data = event.shown if isinstance(event, ClientLine) else event.data  # no passwords in a report
            text = data.decode("utf-8", errors="replace")
            for piece in text.splitlines() or [""]:
                lines.append(prefix + piece)
        elif isinstance(event, Delivered) and event.session_id in logs:
            logs[event.session_id][1].append(f"   [{event.queue_id} {delivered_to} <{event.recipient}>]")
    return tuple(SessionLog(sid, protocol, tuple(lines)) for sid, (protocol, lines) in logs.items())
