"""Reports: JUnit XML shaped exactly like pytest's own `--junitxml`, JSON with both
languages, Markdown and HTML for the student, text with colour only when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mailsim.lesson.model import Text
from mailsim.testbench.report import render
from mailsim.testbench.verdict import Report, Status, Verdict


def _verdict(check: str, status: Status, conversation: int = 1) -> Verdict:
    return Verdict(
        check=check,
        status=status,
        title=Text(es=f"título {check}", en=f"title {check}"),
        detail=Text(es="lo que pasó <&>", en="what happened <&>"),
        why=Text(es="por qué", en="why"),
        rfc="RFC 5321 §4.1.1.4",
        exchange=("C: DATA", "S: 354 End data with <CR><LF>.<CR><LF>"),
        conversation=conversation,
    )


REPORT = Report(
    kind="client",
    subject="SMTP",
    verdicts=(
        _verdict("smtp.opening", Status.PASS),
        _verdict("smtp.data-end", Status.FAIL),
        _verdict("smtp.note.no-angle-brackets", Status.WARN),
        _verdict("smtp.opening", Status.PASS, conversation=2),
    ),
    level="smtp",
    duration=1.25,
    transcripts=(("S: 220 mailsim.test ESMTP mailsim ready", "C: EHLO x"),),
)


def _shape(root: ET.Element) -> dict[str, set[str]]:
    """Each element path and the attributes seen on it."""
    shape: dict[str, set[str]] = {}

    def walk(element: ET.Element, path: str) -> None:
        here = f"{path}/{element.tag}"
        shape.setdefault(here, set()).update(element.attrib)
        for child in element:
            walk(child, here)

    walk(root, "")
    return shape


@pytest.fixture(scope="module")
def pytest_junit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """What pytest itself writes for a passing test that prints, a failing one and a skipped one."""
    folder = tmp_path_factory.mktemp("junit")
    (folder / "test_sample.py").write_text(
        "import pytest\n"
        "def test_ok():\n    print('out')\n"
        "def test_bad():\n    assert 1 == 2\n"
        "@pytest.mark.skip(reason='x')\ndef test_skipped():\n    pass\n",
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=out.xml",
         "-o", "junit_logging=system-out", "test_sample.py"],
        cwd=folder, capture_output=True, check=False,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # only pytest's own junitxml
    )
    return _shape(ET.parse(folder / "out.xml").getroot())


def test_junit_has_the_structure_pytest_writes(pytest_junit: dict[str, set[str]]) -> None:
    ours = _shape(ET.fromstring(render(REPORT, "junit", "en").split("\n", 1)[1]))
    for path, attributes in ours.items():
        assert path in pytest_junit, path
        assert attributes == pytest_junit[path] or path.endswith("system-out"), (path, attributes, pytest_junit[path])
    # Every kind of element pytest writes for passes, failures and output, we write too.
    assert {"/testsuites", "/testsuites/testsuite", "/testsuites/testsuite/testcase",
            "/testsuites/testsuite/testcase/failure", "/testsuites/testsuite/testcase/system-out"} <= set(ours)


def test_junit_counts_and_names() -> None:
    root = ET.fromstring(render(REPORT, "junit", "es").split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("4", "1", "0", "0")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert names == ["smtp.opening", "smtp.data-end", "smtp.note.no-angle-brackets", "smtp.opening[2]"]
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("message") == "lo que pasó <&>"
    assert "C: DATA" in (failure.text or "") and "RFC 5321 §4.1.1.4" in (failure.text or "")


def test_json_carries_both_languages() -> None:
    data = json.loads(render(REPORT, "json", "es"))
    assert data["passed"] is False
    assert data["counts"] == {"pass": 2, "fail": 1, "warn": 1}
    failing = data["verdicts"][1]
    assert failing["status"] == "fail" and failing["title"] == {"en": "title smtp.data-end", "es": "título smtp.data-end"}
    assert failing["exchange"][0] == "C: DATA"


def test_markdown_and_html_for_the_student() -> None:
    md = render(REPORT, "md", "es")
    assert md.startswith("# mailsim check: cliente SMTP")
    assert "## ✘ FALLA: título smtp.data-end" in md
    assert "```\nC: DATA\nS: 354 End data with <CR><LF>.<CR><LF>\n```" in md
    assert "**Por qué:** por qué" in md and "**Ver:** RFC 5321 §4.1.1.4" in md
    assert "(conversación 2)" in md
    assert md.rstrip().endswith("## La conversación completa 1\n\n```\nS: 220 mailsim.test ESMTP mailsim ready\nC: EHLO x\n```")
    page = render(REPORT, "html", "en")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "what happened &lt;&amp;&gt;" in page and "<&>" not in page


def test_text_is_coloured_only_when_asked() -> None:
    plain = render(REPORT, "text", "en")
    assert "\x1b[" not in plain
    assert "✘ FAIL  title smtp.data-end  [RFC 5321 §4.1.1.4]" in plain
    assert "Result: 2 passed, 1 failed, 1 note." in plain  # each word by its number's plural rule
    assert "Resultado: 2 correctas, 1 fallida, 1 nota." in render(REPORT, "text", "es")
    assert "\x1b[31;1m" in render(REPORT, "text", "en", colour=True)


def test_every_format_the_cli_offers_renders() -> None:
    from mailsim.testbench.commands import FORMATS

    outputs = {fmt: render(REPORT, fmt, "es") for fmt in FORMATS}
    assert len(set(outputs.values())) == len(FORMATS)
    assert all("título smtp.data-end" in out for out in outputs.values())
