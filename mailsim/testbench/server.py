"""`mailsim check server URL`: scripted dialogs with a student's server, one fresh
connection per check, each reported with its exchange and RFC section.

A server that hangs, closes or cannot be reached fails the check it was in, with a
clear message; the next check starts again on a new connection.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mailsim.events import Protocol
from mailsim.lesson.model import Text
from mailsim.testbench.assignment import Assignment, load_level
from mailsim.testbench.checks import CheckSpec, Step, status_matches
from mailsim.testbench import dialog as dialog_limits
from mailsim.testbench.dialog import Dialog, DialogError, ServerReply
from mailsim.testbench.texts import data_file, text_of
from mailsim.testbench.verdict import Report, Status, Verdict
from mailsim.transport.tcp import DEFAULT_PORTS

DEFAULT_LEVELS = {Protocol.SMTP: "rfc821", Protocol.POP3: "pop3", Protocol.IMAP: "imap-basic"}
SIZES_CHECKED = 5  # messages whose RETR is compared with LIST, at most
_PLACEHOLDER = re.compile(r"\$\{(#?)(\w+)\}")


@dataclass(frozen=True, slots=True)
class Target:
    protocol: Protocol
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"{self.protocol.value}://{self.host}:{self.port}"


def parse_target(url: str) -> Target:
    """`smtp://host:port`, `pop3://host`, `imap://[::1]:1143`; the port defaults to
    mailsim's stand-in ports (2525, 1110, 1143)."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    try:
        protocol = Protocol((parts.scheme or "").lower())
    except ValueError:
        raise ValueError(f"{url!r}: start with smtp://, pop3:// or imap://") from None
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r}: the port must be a number from 1 to 65535") from None
    return Target(protocol, parts.hostname or "127.0.0.1", port or DEFAULT_PORTS[protocol])


@dataclass
class ServerCheck:
    target: Target
    level: str | None = None          # a built-in level (default: the protocol's basic one)
    assignment: Assignment | None = None
    user: str = "alice"
    password: str = "wonderland"
    sender: str = "alice@mailsim.test"
    rcpt: str = "bob@mailsim.test"
    timeout: float = 5.0

    def values(self) -> dict[str, str]:
        return {"user": self.user, "password": self.password, "sender": self.sender, "rcpt": self.rcpt}


def checks_of(check: ServerCheck) -> tuple[str, Text | None, list[CheckSpec]]:
    """What is run: its name and title, the level's checks (minus the assignment's
    `skip`) and the assignment's own."""
    assignment = check.assignment
    name = check.level or (assignment.level if assignment else "") or (
        "" if assignment and assignment.checks else DEFAULT_LEVELS[check.target.protocol]
    )
    level = load_level(name) if name else None
    specs = list(level.checks) if level else []
    if assignment is not None:
        specs = [s for s in specs if s.id not in assignment.skip] + list(assignment.checks)
        return assignment.id, assignment.title, specs
    return name, level.title if level else None, specs


def run_server_check(check: ServerCheck) -> Report:
    started = time.monotonic()
    level, title, specs = checks_of(check)
    seen = LinesSeen()
    verdicts: list[Verdict] = []
    for spec in specs:
        if seen.unreachable is not None:  # no use knocking again (a filtered port costs a timeout each time)
            verdicts.append(_verdict(spec, False, seen.unreachable, []))
        else:
            verdicts.append(run_one(spec, check, seen=seen))
    if seen.count:  # nothing to judge when the server never said a line
        verdicts.append(_line_ends(seen.bare_lf, check.target.protocol))
    return Report(
        kind="server",
        subject=check.target.url,
        verdicts=tuple(verdicts),
        title=title,
        level=level,
        duration=time.monotonic() - started,
    )


@dataclass
class LinesSeen:
    """What a whole run saw of the server: how many lines, those ending in a bare LF,
    and whether it could not be reached at all."""

    count: int = 0
    bare_lf: list[str] = field(default_factory=list)
    unreachable: Text | None = None


def run_one(spec: CheckSpec, check: ServerCheck, *, seen: LinesSeen | None = None) -> Verdict:
    """One check on a fresh connection; the lines the server sent are counted in `seen`."""
    target = check.target
    try:
        dialog = Dialog(target.protocol, target.host, target.port, check.timeout, secrets=(check.password,))
    except DialogError as exc:
        reason = str(exc).split(": ", 1)[-1]
        detail = _outcome("unreachable", address=f"{target.host}:{target.port}", reason=reason)
        if seen is not None:
            seen.unreachable = detail
        return _verdict(spec, False, detail, [])
    with dialog:
        verdict = _steps(spec, check, dialog)
    if seen is not None:
        seen.count += dialog.lines_read
        seen.bare_lf += dialog.bare_lf
    return verdict


def _steps(spec: CheckSpec, check: ServerCheck, dialog: Dialog) -> Verdict:
    if spec.special == "pop3-sizes":
        ok, detail = _pop3_sizes(dialog, check)
        return _verdict(spec, ok, detail, dialog.transcript)
    for number, step in enumerate(spec.steps, start=1):
        try:
            problem, _ = _run_step(dialog, step, number, check)
        except DialogError as exc:
            problem = _failure(exc, number, check)
        if problem is not None:
            return _verdict(spec, False, problem, dialog.transcript)
    return _verdict(spec, True, _outcome("pass"), dialog.transcript)


def _line_ends(bare_lf: list[str], protocol: Protocol) -> Verdict:
    """Across every check: did the server end each line it sent with CRLF?"""
    entry = data_file("server")["line-ends"]
    ok = not bare_lf
    return Verdict(
        check="line-ends",
        status=Status.PASS if ok else Status.FAIL,
        title=text_of(entry["title"]),
        detail=text_of(entry["pass" if ok else "fail"], count=len(bare_lf), example=bare_lf[0] if bare_lf else ""),
        why=text_of(entry["why"]),
        rfc=entry["rfc"][protocol.value],
        exchange=tuple(f"S: {line}" for line in bare_lf[:3]),
    )


def _run_step(dialog: Dialog, step: Step, number: int, check: ServerCheck) -> tuple[Text | None, ServerReply | None]:
    """Send, read, compare: the problem (None when all went as expected) and the last reply."""
    values = check.values()
    if step.send:
        lines = [_fill(line, values) for line in step.send.split("\n")]
        dialog.send("".join(f"{line}\r\n" for line in lines).encode("utf-8"))
    elif step.raw:
        dialog.send(_fill(step.raw, values).encode("utf-8"))
    reply: ServerReply | None = None
    for expected in step.expect:
        reply = dialog.read_reply(multiline=step.multiline)
        if not status_matches(expected, reply.status):
            got = reply.text.splitlines()[0 if step.multiline else -1] if reply.text else ""
            return _outcome("mismatch", step=number, expected=expected.replace("|", " / "), got=got), reply
    if step.contains and reply is not None and not re.search(step.contains, reply.text, re.MULTILINE):
        return _outcome("contains", step=number, pattern=step.contains), reply
    if step.closes and not dialog.expect_close():
        return _outcome("not-closed", step=number), reply
    return None, reply


_SIZES_SETUP = (
    Step(expect=("+OK",)),
    Step(send="USER ${user}", expect=("+OK",)),
    Step(send="PASS ${password}", expect=("+OK",)),
    Step(send="LIST", expect=("+OK",), multiline=True),
)


def _pop3_sizes(dialog: Dialog, check: ServerCheck) -> tuple[bool, Text]:
    """RFC 1939 §5: the sizes LIST gives are exactly the octets RETR sends (without
    the dot-stuffing and the final dot)."""
    number = 0
    try:
        for number, step in enumerate(_SIZES_SETUP, start=1):
            problem, listing = _run_step(dialog, step, number, check)
            if problem is not None:
                return False, problem
        assert listing is not None
        sizes = [tuple(map(int, m.groups())) for m in re.finditer(rb"^(\d+) (\d+)\r?$", listing.body, re.MULTILINE)]
        if not sizes:
            return False, _outcome("sizes-empty")
        for message, listed in sizes[:SIZES_CHECKED]:
            number += 1
            problem, retrieved = _run_step(dialog, Step(send=f"RETR {message}", expect=("+OK",), multiline=True), number, check)
            if problem is not None:
                return False, problem
            assert retrieved is not None
            if len(retrieved.body) != listed:
                return False, _outcome("sizes-differ", n=message, listed=listed, sent=len(retrieved.body))
    except DialogError as exc:
        return False, _failure(exc, number, check)
    return True, _outcome("sizes-ok", count=min(len(sizes), SIZES_CHECKED))


def _failure(error: DialogError, step: int, check: ServerCheck) -> Text:
    return _outcome(error.kind, step=step, seconds=f"{check.timeout:g}", limit=dialog_limits.MAX_REPLY)


def _fill(text: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(2), match.group(0))
        return str(len(found.encode("utf-8"))) if match.group(1) else found

    return _PLACEHOLDER.sub(value, text)


def _outcome(key: str, **params: object) -> Text:
    return text_of(data_file("server")["outcome"][key], **params)


def _verdict(spec: CheckSpec, ok: bool, detail: Text, transcript: list[str]) -> Verdict:
    return Verdict(
        check=spec.id,
        status=Status.PASS if ok else Status.FAIL,
        title=spec.title,
        detail=detail,
        why=spec.why,
        rfc=spec.rfc,
        exchange=tuple(transcript),
    )
