"""`mailsim check`: the testbench from the shell.

    mailsim check client smtp|pop3|imap   wait for a student's client and judge it
    mailsim check server URL              run scripted dialogs against a student's server
    mailsim check recording FILE          judge the client conversations of a recording
    mailsim check validate FILE...        check assignment files (file:line problems)
    mailsim check levels                  list the built-in server levels

Exit status: 0 when every check passed, 1 when one failed, 2 when the testbench could
not run (a bad assignment file, a port in use, a bad URL).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from mailsim.events import Protocol

if TYPE_CHECKING:
    from mailsim.testbench.assignment import Assignment
    from mailsim.testbench.verdict import Report

# Kept here rather than imported, so that building the `mailsim` parser stays cheap.
FORMATS = ("text", "md", "html", "junit", "json")
LEVELS = ("rfc821", "rfc5321", "pop3", "imap-basic")


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0..65535 (0 picks a free one)")
    return port


def add_check_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="judge a student's client or server, with explained verdicts")
    sub = check.add_subparsers(dest="check_command", metavar="SUBCOMMAND", required=True)

    def output_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--lang", choices=("es", "en"), default=argparse.SUPPRESS, help="language of the report (default: from LANG)")
        parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
        parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (default: standard output)")
        parser.add_argument("--assignment", metavar="FILE", help="an assignment file (TOML) with what the exercise requires")

    client = sub.add_parser("client", help="listen, let the student's client talk to a real mailsim server, judge it")
    client.add_argument("protocol", choices=[p.value for p in Protocol])
    client.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    client.add_argument("--port", type=_port, default=None, help="port (default: 2525 SMTP, 1110 POP3, 1143 IMAP; 0 = any free, printed)")
    client.add_argument("--connections", type=_count, default=None, help="conversations to wait for (default: the assignment's, or 1)")
    client.add_argument("--wait", type=_positive, default=120.0, help="seconds to wait for all conversations (default 120)")
    client.add_argument("--timeout", type=_positive, default=10.0, help="seconds of client silence before the server gives up (default 10)")
    client.add_argument("--world", metavar="FILE", help="world file (default: the assignment's world, or the default world)")
    client.add_argument(
        "--run", metavar="COMMAND",
        help="start the student's program once listening; {host} and {port} are filled in (e.g. 'python client.py {host} {port}')",
    )
    client.add_argument("--record", metavar="FILE", help="also record the conversations (JSON Lines) for 'mailsim replay'")
    output_options(client)

    server = sub.add_parser("server", help="run a graded script of dialogs against a student's server")
    server.add_argument("url", metavar="URL", help="smtp://host:port, pop3://host:port or imap://host:port")
    server.add_argument("--level", choices=LEVELS, help="built-in level (default: rfc821, pop3 or imap-basic by protocol)")
    server.add_argument("--user", default="alice", help="account to log in with (default alice)")
    server.add_argument("--password", default="wonderland", help="its password (default wonderland)")
    server.add_argument("--from", dest="sender", default="alice@mailsim.test", help="envelope sender for SMTP checks")
    server.add_argument("--to", dest="rcpt", default="bob@mailsim.test", help="a recipient the server accepts, for SMTP checks")
    server.add_argument("--timeout", type=_positive, default=5.0, help="seconds to wait for each reply (default 5)")
    output_options(server)

    recording = sub.add_parser("recording", help="judge the client conversations of a recording (the app's, or serve --record's)")
    recording.add_argument("file", metavar="FILE", help="a recording (JSON Lines) or a C:/S: transcript")
    recording.add_argument("--protocol", choices=[p.value for p in Protocol], help="judge only this protocol's conversations")
    output_options(recording)

    validate = sub.add_parser("validate", help="check assignment files; problems as file:line: message")
    validate.add_argument("files", nargs="+", metavar="FILE")
    sub.add_parser("levels", help="list the built-in server levels")


def run(args: argparse.Namespace, lang: str) -> int:
    from mailsim.testbench.assignment import AssignmentError, level_names, load_assignment, load_level

    command = args.check_command
    if command == "validate":
        return _validate(args.files, lang)
    if command == "levels":
        for name in level_names():
            level = load_level(name)
            print(f"{name:12} {level.protocol.value:5} {level.title.get(lang)}: {len(level.checks)} checks")
        return 0
    try:
        assignment = load_assignment(args.assignment) if args.assignment else None
    except AssignmentError as exc:
        print(exc, file=sys.stderr)
        return 2
    if command == "client":
        return _client(args, assignment, lang)
    if command == "recording":
        return _recording(args, assignment, lang)
    return _server(args, assignment, lang)


def _client(args: argparse.Namespace, assignment: Assignment | None, lang: str) -> int:
    from mailsim.store.world import WorldError, build_store, load_world
    from mailsim.testbench.client import ClientCheck, run_client_check
    from mailsim.testbench.report import labels

    protocol = Protocol(args.protocol)
    if assignment is not None and (assignment.kind != "client" or assignment.protocol is not protocol):
        print(f"mailsim: {args.assignment} is a {assignment.kind} assignment for {assignment.protocol.value}", file=sys.stderr)
        return 2
    try:
        world = load_world(args.world) if args.world else (assignment.world if assignment else None)
        store = build_store(world)
    except (WorldError, OSError) as exc:
        print(f"mailsim: {exc}", file=sys.stderr)
        return 2
    connections = args.connections or (assignment.connections if assignment else 1)
    check = ClientCheck(
        protocol, host=args.host, port=args.port, connections=connections, wait=args.wait,
        idle_timeout=args.timeout, assignment=assignment, record=args.record, run=args.run,
    )
    t = labels(lang)

    def listening(host: str, port: int) -> None:
        print(t["listening"].format(protocol=protocol.value.upper(), host=host, port=port, wait=f"{args.wait:g}", count=connections),
              file=sys.stderr, flush=True)

    try:
        report = asyncio.run(run_client_check(check, store, on_listening=listening))
    except OSError as exc:
        print(f"mailsim: cannot {'run' if exc.filename else 'listen'}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a --run command shlex cannot split
        print(f"mailsim: --run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return _emit(report, args, lang)


def _recording(args: argparse.Namespace, assignment: Assignment | None, lang: str) -> int:
    from mailsim.testbench.recording import judge_recording
    from mailsim.transcript.recorder import TranscriptError

    if assignment is not None and assignment.kind != "client":
        print(f"mailsim: {args.assignment} is a server assignment; a recording shows clients", file=sys.stderr)
        return 2
    try:
        report = judge_recording(args.file, protocol=Protocol(args.protocol) if args.protocol else None, assignment=assignment)
    except (TranscriptError, OSError) as exc:
        print(f"mailsim: {exc}", file=sys.stderr)
        return 2
    return _emit(report, args, lang)


def _server(args: argparse.Namespace, assignment: Assignment | None, lang: str) -> int:
    from mailsim.testbench.assignment import load_level
    from mailsim.testbench.server import ServerCheck, parse_target, run_server_check

    try:
        target = parse_target(args.url)
    except ValueError as exc:
        print(f"mailsim: {exc}", file=sys.stderr)
        return 2
    if assignment is not None and (assignment.kind != "server" or assignment.protocol is not target.protocol):
        print(f"mailsim: {args.assignment} is a {assignment.kind} assignment for {assignment.protocol.value}", file=sys.stderr)
        return 2
    if args.level and load_level(args.level).protocol is not target.protocol:
        print(f"mailsim: level {args.level} is not for {target.protocol.value}", file=sys.stderr)
        return 2
    check = ServerCheck(
        target, level=args.level, assignment=assignment, user=args.user, password=args.password,
        sender=args.sender, rcpt=args.rcpt, timeout=args.timeout,
    )
    return _emit(run_server_check(check), args, lang)


def _emit(report: Report, args: argparse.Namespace, lang: str) -> int:
    from mailsim.testbench.report import labels, render

    if args.output:
        Path(args.output).write_text(render(report, args.format, lang), encoding="utf-8")
        print(labels(lang)["written"].format(path=args.output), file=sys.stderr)
    else:
        sys.stdout.write(render(report, args.format, lang, colour=args.format == "text" and sys.stdout.isatty()))
    return 0 if report.passed else 1


def _validate(files: list[str], lang: str) -> int:
    from mailsim.testbench.assignment import check_assignment, load_assignment
    from mailsim.testbench.report import labels

    failed = False
    for name in files:
        problems = check_assignment(name)
        for problem in problems:
            print(problem)
        if problems:
            failed = True
        else:
            assignment = load_assignment(name)
            print(labels(lang)["valid"].format(path=name, kind=assignment.kind, protocol=assignment.protocol.value))
    return 1 if failed else 0
