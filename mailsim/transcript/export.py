"""A replayed recording as a document for a lab report: Markdown, HTML or plain text;
or converted to the other transcript format (`rfc`: C:/S: lines, `jsonl`).

Each step shows what the client sent and what the server answered, the session's state
after it, what each reply means and the teaching notes (the explanations the live
console shows beside the transcript, in the language asked for), and — where today's
server answers differently — both answers side by side.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from mailsim.events import Note, Reply
from mailsim.protocol.explain import Explainer
from mailsim.transcript.replay import Replay, StepResult, format_difference
from mailsim.transcript.wirelog import printable

FORMATS = ("md", "html", "txt", "rfc", "jsonl")


def _wire(step: StepResult, several: bool) -> list[str]:
    lines = []
    for piece in step.client.split(b"\n"):
        if piece:
            lines.append("C: " + printable(piece))
    for session_id, data in step.actual:
        who = f"[{session_id}] " if several and session_id != step.session_id else ""
        for piece in data.split(b"\n"):
            if piece:
                lines.append(f"{who}S: " + printable(piece))
    return lines


_LABELS = {"en": ("Meaning", "Next", "Note"), "es": ("Significado", "Después", "Nota")}


def _explained(step: StepResult, lang: str) -> list[tuple[str, str]]:
    """(label, text) for what the step's replies mean and the notes it raised."""
    explain = Explainer(lang)
    meaning_label, next_label, note_label = _LABELS.get(lang, _LABELS["en"])
    out: list[tuple[str, str]] = []
    for event in step.events:
        if isinstance(event, Reply):
            explanation = explain.reply(event.protocol, event.key, event.code, event.reply_class)
            head = f"{event.code} ({explain.reply_class(event.reply_class, event.protocol).split(':')[0]})"
            if explanation.meaning:
                out.append((f"{meaning_label} · {head}", explanation.meaning.strip()))
            if explanation.next_step:
                out.append((next_label, explanation.next_step.strip()))
        elif isinstance(event, Note):
            text = explain.note(event.protocol, event.key, event.params)
            if text:
                out.append((note_label, text.strip()))
    return out


def _heading(replay: Replay, step: StepResult) -> str:
    state = replay.state_at(step.session_id, step.number)
    when = datetime.fromtimestamp(step.timestamp, tz=timezone.utc).strftime("%H:%M:%S")
    mark = " — DIFFERS" if step.differs else ""
    return f"Step {step.number} · {step.session_id} ({step.protocol.value.upper()}) · {when} · state: {state or '-'}{mark}"


def _summary(replay: Replay) -> list[str]:
    sessions = ", ".join(f"{s} ({p.value.upper()})" for s, p in replay.session_protocols.items())
    verdict = "no differences" if not replay.differences else f"{len(replay.differences)} difference(s)"
    return [
        f"Recording: {replay.path}",
        f"Steps: {len(replay.steps)}; sessions: {sessions or '-'}",
        f"Replayed against today's server: {verdict}",
        *(f"Warning: {w}" for w in replay.warnings),
    ]


def export(replay: Replay, fmt: str, lang: str = "en") -> str:
    if fmt == "md":
        return to_markdown(replay, lang)
    if fmt == "html":
        return to_html(replay, lang)
    if fmt == "txt":
        return to_text(replay, lang)
    if fmt == "rfc":
        from mailsim.transcript.rfcstyle import to_rfc_style

        return to_rfc_style(replay.script)
    if fmt == "jsonl":
        import json

        from mailsim.transcript.rfcstyle import script_to_records

        return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in script_to_records(replay.script))
    raise ValueError(f"unknown export format {fmt!r} (md, html, txt)")


def to_text(replay: Replay, lang: str = "en") -> str:
    several = len(replay.session_protocols) > 1
    out = ["mailsim transcript", "=" * 18, *_summary(replay), ""]
    for step in replay.steps:
        out.append(_heading(replay, step))
        out.extend("    " + line for line in _wire(step, several))
        out.extend(f"    » {label}: {text}" for label, text in _explained(step, lang))
        for difference in step.differences:
            out.extend("    " + line for line in format_difference(difference).splitlines())
        out.append("")
    return "\n".join(out)


def to_markdown(replay: Replay, lang: str = "en") -> str:
    several = len(replay.session_protocols) > 1
    out = ["# mailsim transcript", "", *(f"- {line}" for line in _summary(replay)), ""]
    for step in replay.steps:
        out += [f"## {_heading(replay, step)}", "", "```", *_wire(step, several), "```", ""]
        explained = _explained(step, lang)
        if explained:
            out += [f"> **{label}:** {text}  " for label, text in explained] + [""]
        for difference in step.differences:
            out += ["**Today's server answers differently:**", "", "```", format_difference(difference), "```", ""]
    return "\n".join(out)


_STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; }
pre { background: #f6f6f6; padding: .5em; }
.c { color: #05a; font-weight: bold; } .s { color: #333; }
.differs h2 { color: #b00; } dl.explained dt { font-weight: bold; } dl.explained dd { margin: 0 0 .5em 1.5em; } table.diff td { font-family: monospace; vertical-align: top; padding: 0 1em; }
td.bad { background: #fdd; }
"""


def to_html(replay: Replay, lang: str = "en") -> str:
    esc = html.escape
    several = len(replay.session_protocols) > 1
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}"><head><meta charset="utf-8"><title>mailsim transcript</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>mailsim transcript</h1>",
        "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in _summary(replay)) + "</ul>",
    ]
    for step in replay.steps:
        out.append(f'<section class="{"differs" if step.differs else "step"}" id="step-{step.number}">')
        out.append(f"<h2>{esc(_heading(replay, step))}</h2><pre>")
        for line in _wire(step, several):
            css = "c" if line.startswith("C:") else "s"
            out.append(f'<span class="{css}">{esc(line)}</span>')
        out.append("</pre>")
        explained = _explained(step, lang)
        if explained:
            out.append('<dl class="explained">' + "".join(f"<dt>{esc(label)}</dt><dd>{esc(text)}</dd>"
                                                         for label, text in explained) + "</dl>")
        for difference in step.differences:
            out.append(f"<p>Today's server answers differently ({esc(difference.session_id)}):</p>")
            out.append('<table class="diff"><tr><th>expected</th><th>actual</th></tr>')
            for index in range(max(len(difference.expected), len(difference.actual))):
                left = printable(difference.expected[index]) if index < len(difference.expected) else ""
                right = printable(difference.actual[index]) if index < len(difference.actual) else ""
                bad = ' class="bad"' if left != right else ""
                out.append(f"<tr><td{bad}>{esc(left)}</td><td{bad}>{esc(right)}</td></tr>")
            out.append("</table>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
