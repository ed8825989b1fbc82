"""Running the testbench against the student programs kept in `programs/`."""

from __future__ import annotations

import asyncio
import re
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


async def _client_run(
    protocol: Protocol, name: str, assignment: Assignment | None, args: tuple[str, ...], record: str | None = None
) -> tuple[Report, int]:
    store = build_store(assignment.world if assignment else None)
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    check = ClientCheck(protocol, port=0, wait=20, idle_timeout=IDLE, assignment=assignment, record=record)
    task = asyncio.create_task(run_client_check(check, store, on_listening=lambda host, port: listening.set_result(port)))
    port = await listening
    process = await asyncio.create_subprocess_exec(
        *program(name, "127.0.0.1", str(port), *args), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    report = await asyncio.wait_for(task, 30)
    return report, await asyncio.wait_for(process.wait(), 10)


def check_client_program(
    protocol: Protocol, name: str, assignment: Assignment | None = None, *args: str, record: str | None = None
) -> Report:
    """Start `mailsim check client` in-process, run the student's program against it."""
    report, _ = asyncio.run(_client_run(protocol, name, assignment, args, record))
    return report


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
