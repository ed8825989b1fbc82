"""RFC-style import/export, corrupt recordings, the shipped examples, `mailsim replay`
exit codes and the exports."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mailsim.events import ClientLine, Connected, Protocol, ServerLine
from mailsim.resources import assets_dir
from mailsim.transcript.export import export
from mailsim.transcript.recorder import HEADER_KEY, SCHEMA_VERSION, TranscriptError
from mailsim.transcript.replay import Replay
from mailsim.transcript.rfcstyle import guess_protocol, parse_rfc_style, to_rfc_style, write_jsonl
from mailsim.transcript.script import ActionKind, Script, load_script, script_from_events

EXAMPLES = sorted((assets_dir() / "transcripts").glob("*.txt"))
SMTP_EXAMPLE = assets_dir() / "transcripts" / "smtp-several-recipients.txt"
IDLE_EXAMPLE = assets_dir() / "transcripts" / "imap-idle-woken-by-delivery.txt"


def client_side(script: Script) -> list[tuple[str, str, str, bytes, int]]:
    """Per session, the client's byte stream and what it did, in order (event
    granularity aside: an RFC line and a recorded DATA block carry the same bytes)."""
    out = []
    for step in script.steps:
        for action in step.actions:
            out.append((action.kind.value, action.session_id, action.protocol.value, action.data, int(action.timestamp)))
    merged: list[tuple[str, str, str, bytes, int]] = []
    for item in out:
        if merged and item[0] == "send" and merged[-1][0] == "send" and merged[-1][1] == item[1]:
            last = merged.pop()
            item = (last[0], last[1], last[2], last[3] + item[3], last[4])
        merged.append(item)
    return merged


def server_side(script: Script) -> list[tuple[str, bytes]]:
    lines = []
    for step in script.steps:
        for session_id, data in step.expected_lines():
            lines.extend((session_id, piece + b"\n") for piece in data.split(b"\n")[:-1])
    return lines


# -- the shipped examples ---------------------------------------------------------------------


def test_there_are_four_examples() -> None:
    assert [p.name for p in EXAMPLES] == [
        "imap-idle-woken-by-delivery.txt",
        "imap-select-fetch-store-expunge.txt",
        "pop3-three-states.txt",
        "smtp-several-recipients.txt",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shipped_examples_replay_with_no_difference(path: Path) -> None:
    replay = Replay.load(path)
    assert replay.warnings == []
    assert replay.differences == []
    assert len(replay.steps) > 5


def test_the_smtp_example_refuses_one_of_three_recipients() -> None:
    replay = Replay.load(SMTP_EXAMPLE)
    rcpt = [s for s in replay.steps if s.client.startswith(b"RCPT")]
    assert [s.replies[0].code for s in rcpt] == ["250", "550", "250"]
    delivered = [e for s in replay.steps for e in s.events if type(e).__name__ == "Delivered"]
    assert sorted(e.recipient for e in delivered) == ["alice@mailsim.test", "bob@mailsim.test"]


def test_the_idle_example_wakes_the_imap_session_in_the_smtp_step() -> None:
    replay = Replay.load(IDLE_EXAMPLE)
    dot = next(s for s in replay.steps if s.client.endswith(b".\r\n") and s.protocol is Protocol.SMTP)
    assert ("imap-alice", b"* 8 EXISTS\r\n") in dot.actual
    assert replay.state_at("imap-alice", dot.number) == "idle"


# -- RFC style ------------------------------------------------------------------------------------


def test_rfc_style_text_round_trips_exactly() -> None:
    text = IDLE_EXAMPLE.read_text(encoding="utf-8")
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    assert to_rfc_style(parse_rfc_style(text), header=False) == body


def test_json_lines_to_rfc_style_and_back_keeps_the_client_side(tmp_path: Path) -> None:
    original = load_script(IDLE_EXAMPLE)
    jsonl = tmp_path / "idle.jsonl"
    write_jsonl(original, jsonl)
    from_json = load_script(jsonl)
    assert client_side(from_json) == client_side(original)
    assert server_side(from_json) == server_side(original)
    again = parse_rfc_style(to_rfc_style(from_json), "again.txt")
    assert client_side(again) == client_side(original)
    assert server_side(again) == server_side(original)
    assert again.header[HEADER_KEY] == SCHEMA_VERSION
    assert Replay.load(jsonl).differences == []


def test_bytes_a_text_line_cannot_show_are_kept_exactly() -> None:
    odd = [b"MAIL FROM:<a@b>  \r\n", b"bare\nLF\r\n", b"\xff\xfe latin\r\n", b"tab\there\r\n", b"no end"]
    events = [(1, Connected("s1", 5.0, Protocol.SMTP, "console"))]
    events += [(n + 2, ClientLine("s1", 5.0, Protocol.SMTP, data)) for n, data in enumerate(odd)]
    events.append((10, ServerLine("s1", 5.0, Protocol.SMTP, b"500 \x00odd\r\n")))
    script = script_from_events("odd.jsonl", {HEADER_KEY: 1}, events)
    text = to_rfc_style(script)
    assert "C: tab\there" in text and "C= " in text and "S= " in text
    back = parse_rfc_style(text)
    assert b"".join(a.data for s in back.steps for a in s.actions) == b"".join(odd)
    assert back.steps[-1].expected_lines() == [("s1", b"500 \x00odd\r\n")]


def test_a_pasted_textbook_example_needs_no_directives() -> None:
    text = """S: 220 mailsim.test ESMTP mailsim ready
C: HELO client.example
S: 250 mailsim.test greets client.example
C: QUIT
S: 221 2.0.0 Bye
"""
    replay = Replay(parse_rfc_style(text, "pasted.txt"))
    assert replay.session_protocols == {"smtp-1": Protocol.SMTP}
    assert replay.differences == []


@pytest.mark.parametrize(
    ("kind", "line", "protocol"),
    [("S", "220 host ESMTP", Protocol.SMTP), ("S", "+OK ready", Protocol.POP3), ("S", "* OK IMAP4rev1", Protocol.IMAP),
     ("C", "EHLO x", Protocol.SMTP), ("C", "USER alice", Protocol.POP3), ("C", "a1 LOGIN alice x", Protocol.IMAP),
     ("C", "hello", None)],
)
def test_protocol_guessed_from_the_first_line(kind: str, line: str, protocol: Protocol | None) -> None:
    assert guess_protocol(kind, line) is protocol


def test_client_closes_survive_the_round_trip() -> None:
    text = "@session s1 pop3\n@time 1790000000\nC: USER alice\n@close eof\n"
    script = parse_rfc_style(text)
    assert [a.kind for s in script.steps for a in s.actions] == [ActionKind.CONNECT, ActionKind.SEND, ActionKind.EOF]
    assert "@close eof" in to_rfc_style(script)


# -- corrupt and truncated recordings -------------------------------------------------------------

HEADER = json.dumps({HEADER_KEY: 1}) + "\n"
CONNECT = json.dumps(Connected("s1", 1.0, Protocol.SMTP, "x").to_record()) + "\n"


@pytest.mark.parametrize(
    ("name", "content", "line", "words"),
    [
        ("empty.jsonl", "", 1, "empty"),
        ("header.jsonl", '{"mailsim_transcript": 7}\n', 1, "schema version"),
        ("json.jsonl", HEADER + CONNECT + '{"kind": "client", \n', 3, "not valid JSON"),
        ("cut.jsonl", HEADER + CONNECT + '{"kind": "client", "sess', 3, "truncated"),
        ("kind.jsonl", HEADER + CONNECT + '{"kind": "teleport", "session_id": "s1", "timestamp": 1}\n', 3, "unknown event kind"),
        ("field.jsonl", HEADER + CONNECT + '{"kind": "client", "session_id": "s1", "timestamp": 1, "protocol": "smtp"}\n', 3, "lacks field"),
        ("orphan.jsonl", HEADER + json.dumps(ClientLine("s9", 1.0, Protocol.SMTP, b"x\r\n").to_record()) + "\n", 2, "no 'connected'"),
        ("start.jsonl", json.dumps({HEADER_KEY: 1, "start": {"store": {"domain": "x"}}}) + "\n" + CONNECT, 1, "starting world"),
        ("words.txt", "S: 220 ok\nX: what\n", 2, "expected 'C: '"),
        ("proto.txt", "C: hello there\n", 1, "cannot tell the protocol"),
        ("directive.txt", "@session s1 gopher\n", 1, "unknown protocol"),
        ("b64.txt", "@session s1 smtp\nC= !!!\n", 2, "base64"),
        ("nothing.txt", "# only a comment\n", 1, "nothing to replay"),
        ("late.txt", "@session s1 smtp\n@mailsim {}\n", 2, "must come first"),
    ],
)
def test_bad_recordings_name_the_line(tmp_path: Path, name: str, content: str, line: int, words: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TranscriptError) as caught:
        Replay.load(path)
    assert caught.value.line == line
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: ")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailsim", "replay", *args], capture_output=True, text=True, timeout=60)


def test_check_exit_codes(tmp_path: Path) -> None:
    clean = run_cli("--check", str(SMTP_EXAMPLE))
    assert clean.returncode == 0, clean.stderr
    assert "no difference" in clean.stdout

    changed = tmp_path / "changed.txt"
    changed.write_text(SMTP_EXAMPLE.read_text().replace("no such user here", "who?"), encoding="utf-8")
    different = run_cli("--check", str(changed))
    assert different.returncode == 1
    number = next(n for n, l in enumerate(changed.read_text().splitlines(), 1) if l.startswith("C: RCPT TO:<carol"))
    assert f"(line {number}) smtp-1: expected '550 5.1.1 <carol@mailsim.test>: who?' got " in different.stdout

    broken = tmp_path / "broken.jsonl"
    broken.write_text(HEADER + CONNECT + '{"kind": ', encoding="utf-8")
    unreadable = run_cli("--check", str(broken))
    assert unreadable.returncode == 2
    assert unreadable.stderr.startswith(f"mailsim: {broken}:3: ")
    assert "Traceback" not in unreadable.stderr
    missing = run_cli("--check", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)


def test_exports_for_lab_reports(tmp_path: Path) -> None:
    replay = Replay.load(SMTP_EXAMPLE)
    markdown = export(replay, "md")
    assert markdown.startswith("# mailsim transcript")
    assert "## Step 5 · smtp-1 (SMTP)" in markdown and "S: 550 5.1.1 <carol@mailsim.test>: no such user here" in markdown
    text = export(replay, "txt")
    assert "C: RCPT TO:<carol@mailsim.test>" in text and "no differences" in text
    page = export(replay, "html")
    parser = _Tags()
    parser.feed(page)
    assert parser.tags.count("section") == len(replay.steps)
    assert "&lt;carol@mailsim.test&gt;" in page
    with pytest.raises(ValueError):
        export(replay, "pdf")

    out = tmp_path / "report.md"
    result = run_cli("--export", "md", str(SMTP_EXAMPLE), "-o", str(out))
    assert result.returncode == 0 and out.read_text(encoding="utf-8") == markdown


def test_exports_mark_differences(tmp_path: Path) -> None:
    changed = tmp_path / "changed.txt"
    changed.write_text(SMTP_EXAMPLE.read_text().replace("no such user here", "who?"), encoding="utf-8")
    replay = Replay.load(changed)
    assert "DIFFERS" in export(replay, "md") and "Today's server answers differently" in export(replay, "md")
    assert '<td class="bad">550 5.1.1 &lt;carol@mailsim.test&gt;: who?</td>' in export(replay, "html")


def test_replay_without_a_terminal_shows_the_steps_as_text() -> None:
    result = run_cli(str(SMTP_EXAMPLE))  # stdout is a pipe here: no screen
    assert result.returncode == 0, result.stderr
    assert "Step 1 · smtp-1 (SMTP)" in result.stdout
    assert "C: RCPT TO:<carol@mailsim.test>" in result.stdout


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_JSONL_EXAMPLE: list[str] = []


def _example_jsonl(tmp_dir: Path) -> str:
    if not _JSONL_EXAMPLE:
        path = tmp_dir / "example.jsonl"
        write_jsonl(load_script(SMTP_EXAMPLE), path)
        _JSONL_EXAMPLE.append(path.read_text(encoding="utf-8"))
    return _JSONL_EXAMPLE[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), fmt=st.sampled_from(["jsonl", "txt"]))
def test_damaged_recordings_give_a_line_or_replay_never_a_traceback(tmp_path: Path, data, fmt: str) -> None:
    text = _example_jsonl(tmp_path) if fmt == "jsonl" else SMTP_EXAMPLE.read_text(encoding="utf-8")
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(max_size=5))
    damaged = text[:cut] + junk + text[cut + data.draw(st.integers(0, 20)):]
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    path = tmp_path / f"damaged.{fmt}"
    path.write_text(damaged, encoding="utf-8")
    try:
        Replay.load(path)
    except TranscriptError as exc:
        assert str(exc).startswith(f"{path}:") and exc.message


def test_cli_converts_between_the_two_formats(tmp_path: Path) -> None:
    jsonl, text = tmp_path / "idle.jsonl", tmp_path / "idle.txt"
    assert run_cli("--export", "jsonl", str(IDLE_EXAMPLE), "-o", str(jsonl)).returncode == 0
    assert run_cli("--export", "rfc", str(jsonl), "-o", str(text)).returncode == 0
    assert text.read_text(encoding="utf-8").startswith("@mailsim {")
    assert client_side(load_script(text)) == client_side(load_script(IDLE_EXAMPLE))
    assert run_cli("--check", str(text)).returncode == 0


# -- schema version 1 recordings still replay --------------------------------------------------

V1_RECORDINGS = sorted((Path(__file__).parent / "data").glob("v1-*.jsonl"))


@pytest.mark.parametrize("path", V1_RECORDINGS, ids=lambda p: p.name)
def test_version_1_recordings_replay_without_differences(path: Path) -> None:
    assert json.loads(path.read_text().splitlines()[0])[HEADER_KEY] == 1
    replay = Replay.load(path)
    assert replay.steps and replay.differences == []
    # Today's engines say what each client line is; the version 1 file could not.
    facts = [(e.line_kind, e.verb) for step in replay.steps for e in step.events if isinstance(e, ClientLine)]
    assert facts and all(kind for kind, _verb in facts)


def test_version_2_records_say_what_each_client_line_is(tmp_path: Path) -> None:
    script = parse_rfc_style(SMTP_EXAMPLE.read_text(), str(SMTP_EXAMPLE))
    replay = Replay(script)
    kinds = {(e.line_kind, e.verb) for step in replay.steps for e in step.events if isinstance(e, ClientLine)}
    assert {("command", "EHLO"), ("command", "MAIL"), ("data", "DATA"), ("end-of-data", "DATA")} <= kinds

@pytest.mark.parametrize(("lang", "meaning", "next_label"), [("en", "Meaning", "Next"), ("es", "Significado", "Después")])
def test_exports_carry_the_explanations(lang: str, meaning: str, next_label: str) -> None:
    """"Replay and discuss": each reply's meaning and the notes, as beside the console."""
    replay = Replay.load(SMTP_EXAMPLE)
    markdown = export(replay, "md", lang)
    assert f"> **{meaning} · 250" in markdown and f"> **{next_label}:**" in markdown
    smtp_250 = "Sender" if lang == "en" else "remitente"
    assert smtp_250.lower() in markdown.lower()
    page = export(replay, "html", lang)
    assert f'<html lang="{lang}">' in page and f"<dt>{meaning} · 250" in page
    assert f"» {meaning} · 250" in export(replay, "txt", lang)
