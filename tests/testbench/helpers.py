"""Running the testbench against the student programs kept in `programs/`."""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailsim.events import Protocol
from mailsim.store.world import build_store
from mailsim.testbench.assignment import Assignment
from mailsim.testbench.client import ClientCheck, run_client_check
from mailsim.testbench.verdict import Report, Status, Verdict

PROGRAMS = Path(__file__).parent / "programs"
ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assets" / "assignments"
# The server's patience with a silent client: short, so the "forgot the dot" case is quick.
IDLE = 0.5


def program(name: str, *args: str) -> list[str]:
    return [sys.executable, str(PROGRAMS / name), *args]


def check_client_program(
    protocol: Protocol, name: str, assignment: Assignment | None = None, *args: str, record: str | None = None
) -> Report:
    """`mailsim check client` in-process, starting the student's program once it listens."""
    store = build_store(assignment.world if assignment else None)
    command = shlex.join(program(name)) + " {host} {port} " + shlex.join(args)
    check = ClientCheck(protocol, port=0, wait=20, idle_timeout=IDLE, assignment=assignment, record=record, run=command)
    return asyncio.run(run_client_check(check, store))


def verdicts(report: Report, check: str) -> list[Verdict]:
    return [v for v in report.verdicts if v.check == check]


def status(report: Report, check: str) -> Status:
    found = verdicts(report, check)
    assert len(found) == 1, (check, [v.check for v in report.verdicts])
    return found[0].status


def failed(report: Report) -> set[str]:
    return {v.check for v in report.verdicts if v.status is Status.FAIL}


@contextmanager
def toy_server(name: str, *args: str) -> Iterator[int]:
    """A student's server program on a free port; yields the port."""
    process = subprocess.Popen(program(name, "0", *args), stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        found = re.search(r"listening on (\d+)", line)
        assert found, f"{name} did not start: {line!r}"
        yield int(found.group(1))
    finally:
        process.kill()
        process.wait(timeout=10)
