"""`mailsim check client`: a real mailsim server waits for a student's client, the
conversation is collected from the Bus, then judged.

The server is the same engines and TCP transport as `mailsim serve`; its idle timeout
is the testbench's patience, so a client that forgets the final dot is caught when the
server gives up waiting, exactly as a real server would.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from mailsim.events import Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.store.store import MailStore
from mailsim.testbench.assignment import Assignment
from mailsim.testbench.clientrules import Context, judge_conversation, verdict
from mailsim.testbench.conversation import Collector, passwords
from mailsim.testbench.requirements import MailboxSnapshot, judge_messages, judge_requirements
from mailsim.testbench.verdict import Report, Status
from mailsim.transcript.bus import Bus
from mailsim.transcript.recorder import start_recording
from mailsim.transport.tcp import DEFAULT_PORTS, MailServers, ServerOptions

# A failed login is answered after this delay (the engines' guard against guessing),
# kept short so a test run does not crawl.
AUTH_FAILURE_DELAY = 0.2
# Seconds a program started with `run` may take to exit after its conversations ended.
PROGRAM_GRACE = 5.0


@dataclass
class ClientCheck:
    protocol: Protocol
    host: str = "127.0.0.1"
    port: int | None = None        # None: the usual stand-in port; 0: any free port
    connections: int = 1           # conversations to wait for
    wait: float = 120.0            # seconds for all of them to arrive and finish
    idle_timeout: float = 10.0     # seconds of client silence the server tolerates
    assignment: Assignment | None = None
    record: str | None = None      # also record every event (JSON Lines) for `mailsim replay`
    run: str | None = None         # start the student's program: "python client.py {host} {port}"


async def run_client_check(
    check: ClientCheck, store: MailStore, *, on_listening: Callable[[str, int], None] | None = None
) -> Report:
    """Listen, wait for the client's conversations, judge them. `on_listening` is told
    the address (the port, when 0 was asked for) before any client can connect."""
    started = time.monotonic()
    bus = Bus()
    collector = Collector(passwords(store))
    bus.subscribe(collector)
    enough = asyncio.Event()
    collector.on_closed.append(lambda _: enough.set() if len(collector.finished()) >= check.connections else None)
    before = MailboxSnapshot.of(store)
    port = DEFAULT_PORTS[check.protocol] if check.port is None else check.port
    options = ServerOptions(
        host=check.host,
        ports={check.protocol: port},
        idle_timeout=check.idle_timeout,
        session_config=SessionConfig(hostname=store.domain, auth_failure_delay=AUTH_FAILURE_DELAY),
    )
    recording = (
        start_recording(store, bus, check.record, source="check", config=options.session_config) if check.record else None
    )
    servers = MailServers(store, bus, options)
    host, bound = (await servers.start())[check.protocol]
    if on_listening is not None:
        on_listening(host, bound)
    program = None
    try:
        if check.run:
            arguments = [part.replace("{host}", host).replace("{port}", str(bound)) for part in shlex.split(check.run)]
            output = _program_output()
            program = await asyncio.create_subprocess_exec(*arguments, stdout=output, stderr=output)
        await _wait_for_conversations(check, collector, enough, program)
    finally:
        await servers.stop()
        if recording is not None:
            recording.stop()
        if program is not None:
            await _finish(program)
    conversations = list(collector.conversations.values())[: max(check.connections, 1)]
    context = Context(idle_timeout=check.idle_timeout, wait=check.wait)
    arrived = len(conversations) >= check.connections
    ended = program is not None and not arrived and program.returncode is not None
    verdicts = [
        verdict(
            "connections", Status.PASS if arrived else Status.FAIL, check.protocol,
            outcome="fail-program" if ended else None,
            count=len(conversations), expected=check.connections, seconds=f"{check.wait:g}",
            exit_status=program.returncode if program is not None else "",
        )
    ]
    for conversation in conversations:
        verdicts += judge_conversation(conversation, context) + judge_messages(conversation, store)
    if check.assignment is not None:
        verdicts += judge_requirements(check.assignment, conversations, store, before)
    assignment = check.assignment
    notes = [f"{host}:{bound}"]
    if program is not None:
        notes.append(f"{check.run}: exit status {program.returncode}")
    return Report(
        kind="client",
        subject=check.protocol.value.upper(),
        verdicts=tuple(verdicts),
        title=assignment.title if assignment else None,
        level=assignment.id if assignment else check.protocol.value,
        duration=time.monotonic() - started,
        notes=tuple(notes),
        transcripts=tuple(c.transcript() for c in conversations),
    )


async def _wait_for_conversations(
    check: ClientCheck, collector: Collector, enough: asyncio.Event, program: asyncio.subprocess.Process | None
) -> None:
    """Until the conversations asked for have ended, or `wait` runs out, or the
    program started with `run` has exited and its connections have closed."""
    waiters = {asyncio.ensure_future(enough.wait())}
    if program is not None:
        waiters.add(asyncio.ensure_future(program.wait()))
    done, pending = await asyncio.wait(waiters, timeout=check.wait, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()
    if enough.is_set() or program is None or program.returncode is None:
        return
    # The program exited: let the server take in what it opened before it went, and
    # hear those connections end (or give up on them, as with any silent client).
    settled = asyncio.Event()
    collector.on_closed.append(lambda _: settled.set() if not collector.open() else None)
    await asyncio.sleep(0)
    if collector.open():
        try:
            await asyncio.wait_for(settled.wait(), check.idle_timeout + 1)
        except TimeoutError:
            pass


def _program_output() -> int:
    """Where the student's program writes: our standard error (the report may be on
    standard output), or nowhere when that is not a real file (under a test runner)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return asyncio.subprocess.DEVNULL


async def _finish(program: asyncio.subprocess.Process) -> None:
    """The student's program has had its conversations: give it a moment, then stop it."""
    try:
        await asyncio.wait_for(program.wait(), PROGRAM_GRACE)
    except TimeoutError:
        program.kill()
        await program.wait()
