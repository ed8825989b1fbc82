"""The `mailsim` command: the app by default, and subcommands for the shell.

    mailsim                  open the app on the default world
    mailsim serve            run the SMTP/POP3/IMAP servers on TCP with a live wire log
    mailsim replay FILE      step through a recorded session (--check, --export md|html|txt)
    mailsim lessons          pick a lesson (list: print them; check FILE...: validate)
    mailsim lesson ID|PATH   open one lesson
    mailsim inspect FILE     open a message file in the MIME inspector
    mailsim check ...        judge a student's client or server (client, server, validate, levels)
    mailsim connect URL...   the app, its console sessions talking to any server over TCP
    mailsim watch            a relay between a real client and a real server, explained
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mailsim import __version__
from mailsim.events import Protocol
from mailsim.store.store import MailStore, StoreError
from mailsim.store.world import (
    AccountSpec,
    WorldError,
    build_store,
    load_world,
    parse_account_option,
    parse_roster,
    parse_size,
)
from mailsim.store.model import DEFAULT_QUOTA

if TYPE_CHECKING:
    from mailsim.transport.tap import WatchRelay


def _world_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("world")
    group.add_argument("--world", metavar="FILE", help="world file (default: the embedded default world)")
    group.add_argument("--store", metavar="DIR", help="keep mailboxes in Maildir folders under DIR")
    group.add_argument(
        "--account", metavar="USER:PASSWORD", action="append", default=[], help="add an account (repeatable)"
    )
    group.add_argument("--accounts", metavar="FILE", help="add the accounts of a class roster (CSV, text or TOML)")
    group.add_argument(
        "--quota",
        metavar="SIZE",
        type=_size,
        default=DEFAULT_QUOTA,
        help="storage quota of each account, e.g. 25M, 512K, 1G; 0 = none; a roster's quota = overrides it "
        f"(default {DEFAULT_QUOTA // 1024 // 1024}M)",
    )
    group.add_argument(
        "--fsync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --store: fsync each message, its UID and its directory before acknowledging it, so an "
        "acknowledged message survives a power cut; --no-fsync is faster and still survives a killed server "
        "(default: --fsync)",
    )


def _size(value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0..65535 (0 picks a free one)")
    return port


def _limit_options(serve: argparse.ArgumentParser) -> None:
    """What one client may take of the server (README: "Limits"). Defaults fit one
    machine serving a class of 30-200 students."""
    from mailsim.protocol.base import SessionConfig
    from mailsim.protocol.throttle import LoginPolicy
    from mailsim.transport.limits import DEFAULT_MAX_CONNECTIONS, ServerLimits

    limits, login, session = ServerLimits(), LoginPolicy(), SessionConfig()
    options = (  # option, metavar, type, default, what it limits
        ("--max-connections", "N", int, DEFAULT_MAX_CONNECTIONS, "connections of all protocols together"),
        ("--max-per-protocol", "N", int, limits.max_per_protocol, "connections of one protocol"),
        ("--max-per-address", "N", int, limits.max_per_address,
         "connections from one client address (raise it behind a NAT)"),
        ("--line-deadline", "SECONDS", float, limits.line_deadline, "seconds to finish a command line once begun"),
        ("--max-preauth-literal", "OCTETS", int, session.max_preauth_literal, "largest IMAP literal before login"),
        ("--max-login-failures", "N", int, session.max_login_failures,
         "failed logins one connection may make; the next closes it"),
        ("--lockout-after", "N", int, login.lockout_after, "failed logins that lock an account or an address"),
        ("--lockout", "SECONDS", float, login.lockout, "seconds a lock-out lasts"),
    )
    group = serve.add_argument_group("limits (what one client may take of a shared server)")
    for option, metavar, kind, default, text in options:
        group.add_argument(option, metavar=metavar, type=kind, default=default, help=f"{text} (default {default:g})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailsim", description="An e-mail protocol lab in the terminal.")
    parser.add_argument("--version", action="version", version=f"mailsim {__version__}")
    parser.add_argument("--lang", choices=("es", "en"), help="language of the interface (default: from LANG)")
    parser.add_argument("--listen", action="store_true", help="also run the TCP servers (app only)")
    parser.add_argument(
        "--no-record", action="store_true", help="do not record the app's sessions (recorded by default, for replay)"
    )
    _world_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the servers on TCP with a live wire log")
    _world_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--smtp-port", type=_port, default=2525, help="SMTP port (default 2525; 0 = any free)")
    serve.add_argument("--pop3-port", type=_port, default=1110, help="POP3 port (default 1110; 0 = any free)")
    serve.add_argument("--imap-port", type=_port, default=1143, help="IMAP port (default 1143; 0 = any free)")
    _limit_options(serve)
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        help="seconds before an idle client is dropped (default: SMTP 300, POP3 600, IMAP 1800, as the RFCs ask)",
    )
    serve.add_argument("--max-message-size", type=int, default=10 * 1024 * 1024, help="SMTP SIZE limit in octets")
    serve.add_argument("--record", metavar="FILE", help="also record every event as JSON Lines into FILE")
    serve.add_argument("--quiet", action="store_true", help="no wire log, only the listening addresses")
    _tls_options(serve)
    serve.add_argument(
        "--submission-port", type=_port, default=2587,
        help="SMTP submission port: AUTH required, relays for its users (default 2587; 0 = any free)",
    )
    serve.add_argument("--no-submission", action="store_true", help="no submission listener")
    serve.add_argument(
        "--mx-port", metavar="DOMAIN=PORT", action="append", default=[],
        help="port of another domain's MX server (default: the SMTP port + 1, + 2... in world order)",
    )

    replay = commands.add_parser("replay", help="replay a recorded session against today's servers")
    replay.add_argument("file", metavar="FILE", help="a recording (JSON Lines) or a C:/S: transcript")
    replay.add_argument("--check", action="store_true", help="no screen: print differences, exit 1 if any")
    replay.add_argument(
        "--export",
        choices=("md", "html", "txt", "rfc", "jsonl"),
        help="write the replay as a document (md, html, txt) or convert it (rfc: C:/S: lines; jsonl)",
    )
    replay.add_argument("-o", "--output", metavar="OUT", help="where --export writes (default: standard output)")

    lessons = commands.add_parser("lessons", help="pick a lesson; 'list' prints them, 'check' validates files")
    lesson_commands = lessons.add_subparsers(dest="lessons_command", metavar="SUBCOMMAND")
    lesson_commands.add_parser("list", help="print the lessons: id, title, protocols, level, minutes")
    check = lesson_commands.add_parser("check", help="validate lesson files; problems as file:line: message")
    check.add_argument("files", nargs="*", metavar="FILE", help="lesson files (default: the shipped lessons)")
    lesson = commands.add_parser("lesson", help="open one lesson by id or file")
    lesson.add_argument("lesson", metavar="ID|PATH")

    inspect = commands.add_parser("inspect", help="open a message file (.eml) in the MIME inspector")
    inspect.add_argument("path", metavar="FILE.eml", help="a message as raw bytes (RFC 5322)")
    inspect.add_argument("--lang", choices=("es", "en"), default=argparse.SUPPRESS, help="language of the inspector")

    from mailsim.testbench.commands import add_check_parser

    add_check_parser(commands)
    connect = commands.add_parser("connect", help="the app, with console sessions to any server over TCP")
    connect.add_argument("urls", nargs="+", metavar="URL",
                         help="smtp://host:port, pop3://host:port, imap://host:port; smtps://, pop3s://, imaps:// for TLS from the first byte")
    connect.add_argument(
        "--insecure", action="store_true",
        help="do not check the server's certificate (like curl -k): still encrypted, but anyone in between could pose as the server",
    )

    watch = commands.add_parser("watch", help="relay a real client to a real server and explain the conversation")
    watch.add_argument("--listen", type=_port, required=True, metavar="PORT", help="port the client connects to")
    watch.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    watch.add_argument("--to", required=True, metavar="HOST:PORT", help="the real server")
    watch.add_argument("--protocol", choices=("smtp", "pop3", "imap"), help="when the server's port does not tell")
    watch.add_argument("--no-ui", action="store_true", help="no app: print the wire log (C:/S: lines) instead")
    watch.add_argument("--record", metavar="FILE", help="with --no-ui: also record every event as JSON Lines")
    return parser


def _tls_options(serve: argparse.ArgumentParser) -> None:
    """TLS for `mailsim serve`: STARTTLS/STLS on the ports above, implicit-TLS ports
    (RFC 8314 stand-ins), the certificate, and whether passwords wait for TLS."""
    group = serve.add_argument_group("TLS")
    group.add_argument("--smtps-port", type=_port, default=4465, help="SMTP with implicit TLS (submissions; real: 465; default 4465; 0 = any free)")
    group.add_argument("--pop3s-port", type=_port, default=1995, help="POP3 with implicit TLS (pop3s; real: 995; default 1995; 0 = any free)")
    group.add_argument("--imaps-port", type=_port, default=1993, help="IMAP with implicit TLS (imaps; real: 993; default 1993; 0 = any free)")
    group.add_argument("--tls-cert", metavar="PEM", help="server certificate (default: made on first use, issued by a local CA in the user data directory)")
    group.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    group.add_argument("--no-tls", action="store_true", help="no TLS at all: no STARTTLS/STLS, no implicit-TLS ports")
    group.add_argument(
        "--require-tls-for-auth",
        action="store_true",
        help="refuse passwords until the connection is encrypted (IMAP LOGINDISABLED, no AUTH before STARTTLS), as real servers do",
    )


def _serve_tls(args: argparse.Namespace, store: MailStore):
    """The certificate `mailsim serve` uses, or None with --no-tls; raises TlsSetupError."""
    from mailsim.transport.tls import TlsSetupError, ensure_certificate, load_certificate, server_names

    if args.no_tls:
        if args.require_tls_for_auth:
            raise TlsSetupError("--require-tls-for-auth needs TLS: it cannot go with --no-tls")
        return None
    if bool(args.tls_cert) != bool(args.tls_key):
        raise TlsSetupError("--tls-cert and --tls-key go together")
    if args.tls_cert:
        return load_certificate(args.tls_cert, args.tls_key)
    # The home domain first (it names the certificate), then every other name a
    # listener of this world answers as: the domains and their servers (mx.ejemplo.test).
    others = {account.domain for account in store.accounts.values()}
    for domain in store.domains.values():
        others.update(name for name in (domain.name, domain.hostname) if name)
    return ensure_certificate(server_names([store.domain, *sorted(others - {store.domain})], host=args.host))


def _print_tls(servers, material) -> None:
    if material is None:
        print("TLS  off (--no-tls): passwords cross in cleartext", flush=True)
        return
    for protocol, (host, port) in servers.implicit_addresses.items():
        print(f"{protocol.value.upper()}S listening on {host}:{port} (implicit TLS)", flush=True)
    print(f"TLS  certificate {material.subject}, valid until {material.not_after:%Y-%m-%d}", flush=True)
    print(f"     SHA-256 fingerprint {material.fingerprint}", flush=True)
    if material.ca_file is not None:
        print(f"     issued by mailsim's local CA: trust {material.ca_file} in a client to verify it", flush=True)


def open_store(args: argparse.Namespace) -> MailStore:
    """The store the options describe: world, extra accounts, optional Maildir."""
    extra: list[AccountSpec] = [parse_account_option(value) for value in args.account]
    if args.accounts:
        extra.extend(parse_roster(args.accounts))
    world = load_world(args.world) if args.world else None
    store = build_store(world, extra_accounts=extra, default_quota=args.quota)
    if args.store:
        from mailsim.store.maildir import attach_maildir

        attach_maildir(store, Path(args.store), durable=args.fsync)
    return store


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "replay":
        return _replay(args)
    if args.command in ("lessons", "lesson"):
        return _lessons(args)
    if args.command == "inspect":
        from mailsim.ui.inspector.app import run_inspect

        return run_inspect(args.path, lang=args.lang)
    if args.command == "check":
        return _check(args)
    # Maildir folders, recordings, reports: the students' mail is nobody else's to read.
    os.umask(0o077)
    try:
        store = open_store(args)
    except (WorldError, ValueError, OSError, StoreError) as exc:
        print(f"mailsim: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(args, store)
    if args.command in ("connect", "watch"):
        return _connect_or_watch(args, store)
    return _app(args, store)


def _app(args: argparse.Namespace, store: MailStore) -> int:
    try:
        from mailsim.ui.app import run_app
    except ImportError:
        print("mailsim: the app is not available in this build; use 'mailsim serve'", file=sys.stderr)
        return 1
    return run_app(store, lang=args.lang, listen=args.listen, record=not args.no_record)


def _lessons(args: argparse.Namespace) -> int:
    from mailsim.lesson import commands

    if args.command == "lesson":
        return commands.open_in_ui(args.lesson, args.lang)
    if args.lessons_command == "check":
        return commands.check(args.files)
    if args.lessons_command == "list":
        from mailsim.language import default_language

        return commands.list_lessons(args.lang or default_language())
    return commands.open_in_ui(None, args.lang)


def _replay(args: argparse.Namespace) -> int:
    from mailsim.transcript.replaycli import run_headless, show_as_text

    if args.check or args.export:
        from mailsim.language import default_language

        return run_headless(args.file, check=args.check, export=args.export, output=args.output,
                            lang=args.lang or default_language())
    if not sys.stdout.isatty():  # piped or scripted: the steps as text, no screen
        return show_as_text(args.file)
    try:
        from mailsim.ui.replay import run_replay_app
    except ImportError:
        print("mailsim: the replay screen is not available in this build; showing the steps as text", file=sys.stderr)
        return show_as_text(args.file)
    return run_replay_app(args.file, lang=args.lang)


def _serve(args: argparse.Namespace, store: MailStore) -> int:
    try:
        return asyncio.run(_serve_async(args, store))
    except KeyboardInterrupt:
        return 0


def _storage_line(args: argparse.Namespace, store: MailStore) -> str:
    """Where mail is kept and how much each account may hold, for the teacher."""
    quota = f"{store.default_quota / 1024 / 1024:g} MiB per account" if store.default_quota else "no quota"
    if not args.store:
        return f"storage: in memory only (lost when the server stops), {quota}"
    durability = "fsync before each acknowledgement" if args.fsync else "no fsync (--no-fsync)"
    return f"storage: Maildir under {args.store}, {durability}, {quota}"


async def _serve_async(args: argparse.Namespace, store: MailStore) -> int:
    from mailsim.protocol.base import SessionConfig
    from mailsim.transcript.bus import Bus
    from mailsim.transcript.recorder import start_recording
    from mailsim.transcript.wirelog import WireLog
    from mailsim.protocol.throttle import LoginPolicy
    from mailsim.transport.limits import ServerLimits
    from mailsim.transport.tcp import ServerOptions
    from mailsim.transport.world import WorldOptions, WorldServers

    from mailsim.transport.tls import TlsSetupError

    try:
        material = _serve_tls(args, store)
    except TlsSetupError as exc:
        print(f"mailsim: {exc}", file=sys.stderr)
        return 2
    bus = Bus()
    if not args.quiet:
        bus.subscribe(WireLog(sys.stdout, colour=sys.stdout.isatty()))
    options = ServerOptions(
        host=args.host,
        ports={Protocol.SMTP: args.smtp_port, Protocol.POP3: args.pop3_port, Protocol.IMAP: args.imap_port},
        max_connections=args.max_connections,
        idle_timeout=args.idle_timeout,
        session_config=SessionConfig(
            hostname=store.domain,
            max_message_size=args.max_message_size,
            max_preauth_literal=args.max_preauth_literal,
            max_login_failures=args.max_login_failures,
            tls_offered=material is not None,
            require_tls_for_auth=args.require_tls_for_auth,
        ),
        limits=ServerLimits(
            max_per_protocol=args.max_per_protocol,
            max_per_address=args.max_per_address,
            line_deadline=args.line_deadline,
            login=LoginPolicy(lockout_after=args.lockout_after, lockout=args.lockout),
        ),
        tls=material,
        implicit_tls_ports={Protocol.SMTP: args.smtps_port, Protocol.POP3: args.pop3s_port, Protocol.IMAP: args.imaps_port},
    )
    recorder = (
        start_recording(store, bus, args.record, source="serve", config=options.session_config)
        if args.record
        else None
    )
    try:
        mx_ports = {name.lower(): _port(port) for name, _, port in (v.partition("=") for v in args.mx_port)}
    except (ValueError, argparse.ArgumentTypeError):
        print("mailsim: --mx-port takes DOMAIN=PORT", file=sys.stderr)
        return 2
    servers = WorldServers(store, bus, options, WorldOptions(
        submission_port=None if args.no_submission else args.submission_port, mx_ports=mx_ports))
    try:
        listeners = await servers.start()
    except OSError as exc:
        await servers.stop()
        print(f"mailsim: cannot listen: {exc}", file=sys.stderr)
        return 1
    for listener in listeners:
        if listener.label == store.domain:
            print(f"{listener.protocol.value.upper():4} listening on {listener.host}:{listener.port}", flush=True)
        else:
            print(f"{listener.label}: SMTP as {listener.hostname} on {listener.host}:{listener.port}", flush=True)
    _print_tls(servers.home, material)
    accounts = ", ".join(a.address for a in store.accounts.values())
    print(f"accounts: {accounts}", flush=True)
    if store.dns.records:
        print("DNS: " + "; ".join(r.zone_line() for r in store.dns.records), flush=True)
    print(_storage_line(args, store), flush=True)
    limits = options.limits
    print(
        f"limits: {options.max_connections} connections, {limits.max_per_protocol} per protocol,"
        f" {limits.max_per_address} per address; lock-out after {limits.login.lockout_after} failed logins"
        " (mailsim serve --help)",
        flush=True,
    )
    print("Ctrl-C to stop.", flush=True)
    await _until_stopped()
    await servers.stop()
    if recorder is not None:
        recorder.stop()
    print("stopped.", flush=True)
    return 0


def _connect_or_watch(args: argparse.Namespace, store: MailStore) -> int:
    """`mailsim connect URL...` and `mailsim watch --listen PORT --to HOST:PORT`."""
    from mailsim.transport.client import ServerAddress, parse_server_url
    from mailsim.transport.tap import WatchRelay, guess_protocol

    try:
        if args.command == "connect":
            remotes = [parse_server_url(url, allow_tls=True) for url in args.urls]
            if args.insecure:
                remotes = [dataclasses.replace(address, verify=False) for address in remotes]
            relays = []
        else:
            host, _, port_text = args.to.rpartition(":")
            if not host or not port_text.isdigit():
                raise ValueError(f"--to {args.to!r}: expected HOST:PORT")
            protocol = Protocol(args.protocol) if args.protocol else guess_protocol(int(port_text))
            if protocol is None:
                raise ValueError(f"port {port_text} does not tell the protocol: add --protocol smtp|pop3|imap")
            remotes = []
            relays = [WatchRelay(ServerAddress(protocol, host, int(port_text)), host=args.host, port=args.listen)]
    except ValueError as exc:
        print(f"mailsim: {exc}", file=sys.stderr)
        return 2
    if args.command == "watch" and args.no_ui:
        try:
            return asyncio.run(_watch_headless(relays[0], args.record, store))
        except KeyboardInterrupt:
            return 0
    from mailsim.ui.app import run_app

    return run_app(store, lang=args.lang, record=not args.no_record, remotes=remotes, relays=relays)


async def _watch_headless(relay: WatchRelay, record: str | None, store: MailStore) -> int:
    from mailsim.transcript.recorder import Recorder
    from mailsim.transcript.secrets import SecretStandIns
    from mailsim.transcript.wirelog import WireLog

    # The wire log masks a real client's passwords (the observers mark them as the
    # engines do); the recording holds stand-ins, never the passwords themselves.
    relay.bus.subscribe(WireLog(sys.stdout, colour=sys.stdout.isatty()))
    recorder = None
    if record:
        target = f"{relay.target.host}:{relay.target.port}"
        recorder = Recorder.to_file(
            record, metadata={"source": "watch", "target": target}, secrets=SecretStandIns(store)
        )
        relay.bus.subscribe(recorder)
    try:
        host, port = await relay.start()
    except OSError as exc:
        print(f"mailsim: cannot listen: {exc}", file=sys.stderr)
        return 1
    print(f"watching: {relay.protocol.value.upper()} clients connecting to {host}:{port} "
          f"are relayed to {relay.target.host}:{relay.target.port}", flush=True)
    print("Ctrl-C to stop.", flush=True)
    await _until_stopped()
    await relay.stop()
    if recorder is not None:
        recorder.close()
    print("stopped.", flush=True)
    return 0


async def _until_stopped() -> None:
    """Until Ctrl-C or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    await stop.wait()


def _check(args: argparse.Namespace) -> int:
    from mailsim.testbench.commands import run
    from mailsim.ui.strings import default_language

    return run(args, args.lang or default_language())
