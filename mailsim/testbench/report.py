"""A testbench report for people and for machines.

Terminal text (coloured on a TTY) and Markdown/HTML for the student, in their
language; JUnit XML (the structure pytest's `--junitxml` writes, so GitHub Classroom
and CI servers read it) and JSON (both languages) for autograders.
"""

from __future__ import annotations

import html
import json
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any

from mailsim.plurals import choose
from mailsim.testbench.commands import LEVELS
from mailsim.testbench.texts import data_file
from mailsim.testbench.verdict import Report, Status, Verdict

_MARK = {Status.PASS: "✔", Status.FAIL: "✘", Status.WARN: "!"}
_COLOUR = {Status.PASS: "32", Status.FAIL: "31", Status.WARN: "33"}


def labels(lang: str) -> dict[str, Any]:
    words = data_file("report")
    return words.get(lang, words["en"])


def render(report: Report, fmt: str, lang: str, *, colour: bool = False) -> str:
    if fmt == "md":
        return markdown(report, lang)
    if fmt == "html":
        return html_page(report, lang)
    if fmt == "junit":
        return junit(report, lang)
    if fmt == "json":
        return as_json(report)
    return text(report, lang, colour=colour)


def heading(report: Report, lang: str) -> str:
    t = labels(lang)
    line = t[f"heading-{report.kind}"].format(subject=report.subject)
    if report.title is not None:
        line += f" — {report.title.get(lang)}"
    return line


def _name(verdict: Verdict, lang: str, t: dict[str, str]) -> str:
    title = verdict.title.get(lang)
    return f"{title} ({t['conversation']} {verdict.conversation})" if verdict.conversation > 1 else title


def _summary(report: Report, t: dict[str, Any], lang: str) -> str:
    """"3 passed, 1 failed, 2 notes", each word in the plural form its number needs."""
    counts = ((Status.PASS, "passed"), (Status.FAIL, "failed"), (Status.WARN, "warnings"))
    return ", ".join(
        f"{report.count(status)} {choose(t[word], lang, {'count': report.count(status)})}" for status, word in counts
    )


# -- for people -------------------------------------------------------------------------------


def text(report: Report, lang: str, *, colour: bool = False) -> str:
    t = labels(lang)

    def paint(code: str, s: str) -> str:
        return f"\x1b[{code}m{s}\x1b[0m" if colour else s

    out = [paint("1", heading(report, lang)), ""]
    for verdict in report.verdicts:
        status = verdict.status
        badge = paint(_COLOUR[status] + ";1", f"{_MARK[status]} {t[status.value]:5}")
        rfc = f"  [{verdict.rfc}]" if verdict.rfc and status is not Status.PASS else ""
        out.append(f"{badge} {_name(verdict, lang, t)}{paint('2', rfc)}")
        out.append(f"        {verdict.detail.get(lang)}")
        if status is not Status.PASS:
            out += [f"          {paint('2', line)}" for line in verdict.exchange]
            if verdict.why.get(lang):
                out.append(f"        {paint('1', t['why'] + ':')} {verdict.why.get(lang)}")
        out.append("")
    out.append(f"{t['result']}: {_summary(report, t, lang)}. {t['all-good'] if report.passed else t['some-failed']}")
    return "\n".join(out) + "\n"


def markdown(report: Report, lang: str) -> str:
    t = labels(lang)
    out = [f"# {heading(report, lang)}", ""]
    if report.level and (report.title is not None or report.kind == "server"):
        is_level = report.kind == "server" and report.level in LEVELS
        out += [f"**{t['level' if is_level else 'assignment']}:** `{report.level}`", ""]
    out += [f"**{t['result']}:** {_summary(report, t, lang)}", ""]
    for verdict in report.verdicts:
        out += [f"## {_MARK[verdict.status]} {t[verdict.status.value]}: {_name(verdict, lang, t)}", "", verdict.detail.get(lang), ""]
        if verdict.status is not Status.PASS:
            if verdict.exchange:
                out += ["```", *verdict.exchange, "```", ""]
            if verdict.why.get(lang):
                out += [f"**{t['why']}:** {verdict.why.get(lang)}", ""]
            if verdict.rfc:
                out += [f"**{t['rfc']}:** {verdict.rfc}", ""]
    for number, lines in enumerate(report.transcripts, start=1):
        out += [f"## {t['transcript']} {number}", "", "```", *lines, "```", ""]
    return "\n".join(out).rstrip() + "\n"


def html_page(report: Report, lang: str) -> str:
    t = labels(lang)
    e = html.escape
    title = heading(report, lang)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.4}"
        "pre{background:#f4f4f4;padding:.8em;overflow-x:auto}"
        ".pass{color:#14692e}.warn{color:#8a5a00}.fail{color:#a01616}</style>",
        "</head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p><b>{e(t['result'])}:</b> {e(_summary(report, t, lang))}</p>",
    ]
    for verdict in report.verdicts:
        status = verdict.status.value
        parts.append(f'<section class="{status}"><h2 class="{status}">{_MARK[verdict.status]} {e(t[status])}: {e(_name(verdict, lang, t))}</h2>')
        parts.append(f"<p>{e(verdict.detail.get(lang))}</p>")
        if verdict.status is not Status.PASS:
            if verdict.exchange:
                parts.append("<pre>" + e("\n".join(verdict.exchange)) + "</pre>")
            if verdict.why.get(lang):
                parts.append(f"<p><b>{e(t['why'])}:</b> {e(verdict.why.get(lang))}</p>")
            if verdict.rfc:
                parts.append(f"<p><b>{e(t['rfc'])}:</b> {e(verdict.rfc)}</p>")
        parts.append("</section>")
    for number, lines in enumerate(report.transcripts, start=1):
        parts.append(f"<h2>{e(t['transcript'])} {number}</h2><pre>" + e("\n".join(lines)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- for machines -----------------------------------------------------------------------------


def junit(report: Report, lang: str) -> str:
    """JUnit XML with the elements and attributes pytest's `--junitxml` writes:
    testsuites > testsuite > testcase (> failure | system-out)."""
    t = labels(lang)
    suite_name = f"mailsim-check-{report.kind}-{report.level or 'default'}"
    root = ET.Element("testsuites", {"name": "mailsim check"})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": suite_name,
            "errors": "0",
            "failures": str(report.count(Status.FAIL)),
            "skipped": "0",
            "tests": str(len(report.verdicts)),
            "time": f"{report.duration:.3f}",
            "timestamp": datetime.now(timezone.utc).astimezone().isoformat(timespec="microseconds"),
            "hostname": socket.gethostname(),
        },
    )
    seen: dict[str, int] = {}
    for verdict in report.verdicts:
        name = verdict.check if verdict.conversation <= 1 else f"{verdict.check}[{verdict.conversation}]"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}[{seen[name]}]"
        case = ET.SubElement(
            suite, "testcase", {"classname": f"{suite_name}.{verdict.check.split('.')[0]}", "name": name, "time": "0.000"}
        )
        body = _plain(verdict, lang, t)
        if verdict.status is Status.FAIL:
            failure = ET.SubElement(case, "failure", {"message": verdict.detail.get(lang)})
            failure.text = body
        elif verdict.status is Status.WARN:
            ET.SubElement(case, "system-out").text = body
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _plain(verdict: Verdict, lang: str, t: dict[str, str]) -> str:
    lines = [verdict.title.get(lang), verdict.detail.get(lang), "", *verdict.exchange]
    if verdict.why.get(lang):
        lines += ["", f"{t['why']}: {verdict.why.get(lang)}"]
    if verdict.rfc:
        lines.append(f"{t['rfc']}: {verdict.rfc}")
    return "\n".join(lines)


def as_json(report: Report) -> str:
    def texts(value) -> dict[str, str]:
        return {"en": value.en, "es": value.es}

    data = {
        "kind": report.kind,
        "subject": report.subject,
        "level": report.level,
        "title": texts(report.title) if report.title is not None else None,
        "passed": report.passed,
        "counts": {status.value: report.count(status) for status in Status},
        "duration": round(report.duration, 3),
        "notes": list(report.notes),
        "transcripts": [list(lines) for lines in report.transcripts],
        "verdicts": [
            {
                "check": v.check,
                "status": v.status.value,
                "conversation": v.conversation,
                "title": texts(v.title),
                "detail": texts(v.detail),
                "why": texts(v.why),
                "rfc": v.rfc,
                "exchange": list(v.exchange),
            }
            for v in report.verdicts
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
