"""`mailsim check server` runs its scripted dialogs against example student servers,
against mailsim's own servers (which must pass every level), and against servers that
hang, close or are not there."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from running_servers import RunningServers, start_servers

from mailsim.events import Protocol
from mailsim.testbench.assignment import load_level
from mailsim.testbench.server import ServerCheck, Target, parse_target, run_one, run_server_check
from mailsim.testbench.verdict import Status
from testbench.helpers import failed, toy_server, verdicts

RFC821 = {
    "greeting", "helo", "mail-transaction", "dot-stuffing", "rcpt-before-mail", "mail-twice", "data-before-rcpt",
    "unknown-command", "syntax-error", "rset", "noop", "quit",
}


def smtp(port: int, **options) -> ServerCheck:
    return ServerCheck(Target(Protocol.SMTP, "127.0.0.1", port), timeout=2, **options)


def test_a_correct_toy_server_passes_the_rfc821_level() -> None:
    with toy_server("smtp_server_good.py") as port:
        report = run_server_check(smtp(port))
    assert report.level == "rfc821"
    assert {v.check for v in report.verdicts} == RFC821 | {"line-ends"}
    assert failed(report) == set()


def test_a_server_that_ends_lines_with_a_bare_lf_is_told_so() -> None:
    with toy_server("smtp_server_good.py", "--lf") as port:
        report = run_server_check(smtp(port))
    assert failed(report) == {"line-ends"}
    (line_ends,) = verdicts(report, "line-ends")
    assert line_ends.detail.en.endswith("first: 220 toy.example Simple Mail Transfer Service Ready␊")
    assert line_ends.rfc == "RFC 5321 §2.3.8, §4.2"


def test_a_server_that_stops_at_a_stuffed_dot_fails_the_dot_stuffing_check_only() -> None:
    with toy_server("smtp_server_good.py", "--dot-bug") as port:
        report = run_server_check(smtp(port))
    assert failed(report) == {"dot-stuffing"}
    (dots,) = verdicts(report, "dot-stuffing")
    # It answered 250 at the "..", then read "the last line" as a command.
    assert dots.detail.en == "Step 7: expected 250, the server answered «500 Syntax error, command unrecognized»."


def test_a_server_that_answers_250_to_everything_fails_where_it_should() -> None:
    with toy_server("smtp_server_yes.py") as port:
        report = run_server_check(smtp(port))
    assert failed(report) == {
        "mail-transaction", "dot-stuffing", "rcpt-before-mail", "mail-twice", "data-before-rcpt",
        "unknown-command", "syntax-error", "rset", "quit",
    }
    (rcpt,) = verdicts(report, "rcpt-before-mail")
    assert rcpt.detail.en == "Step 3: expected 503, the server answered «250 OK»."
    assert rcpt.exchange == (
        "S: 220 yes.example ready", "C: HELO testbench.mailsim.test", "S: 250 OK", "C: RCPT TO:<bob@mailsim.test>", "S: 250 OK",
    )
    assert rcpt.rfc.startswith("RFC 5321")
    assert "503" in rcpt.why.es
    (data,) = verdicts(report, "mail-transaction")
    assert data.detail.en == "Step 5: expected 354, the server answered «250 OK»."


@pytest.fixture(scope="module")
def mailsim_servers() -> Iterator[RunningServers]:
    from mailsim.store.world import build_store

    yield from start_servers(build_store())


@pytest.mark.parametrize(
    ("protocol", "level"),
    [(Protocol.SMTP, "rfc5321"), (Protocol.POP3, "pop3"), (Protocol.IMAP, "imap-basic")],
)
def test_mailsim_own_servers_pass_every_level(mailsim_servers: RunningServers, protocol: Protocol, level: str) -> None:
    target = Target(protocol, "127.0.0.1", mailsim_servers.ports[protocol])
    report = run_server_check(ServerCheck(target, level=level, timeout=3))
    assert failed(report) == set(), [(v.check, v.detail.en, v.exchange) for v in report.verdicts if v.failed]
    assert len(report.verdicts) >= 11
    assert not any("wonderland" in line for v in report.verdicts for line in v.exchange)  # the password stays hidden


def test_pop3_sizes_compares_list_with_retr(mailsim_servers: RunningServers) -> None:
    target = Target(Protocol.POP3, "127.0.0.1", mailsim_servers.ports[Protocol.POP3])
    (sizes,) = [v for v in run_server_check(ServerCheck(target, level="pop3", timeout=3)).verdicts if v.check == "sizes"]
    assert sizes.status is Status.PASS
    assert sizes.detail.en == "LIST and RETR agree on the size of 5 messages."
    assert sizes.detail.es == "LIST y RETR coinciden en el tamaño de 5 mensajes."


def test_a_pop3_server_that_counts_lf_instead_of_crlf_fails_the_sizes_check() -> None:
    with toy_server("pop3_server_lf_sizes.py") as port:
        report = run_server_check(ServerCheck(Target(Protocol.POP3, "127.0.0.1", port), level="pop3", timeout=2))
    (sizes,) = verdicts(report, "sizes")
    assert sizes.status is Status.FAIL
    # "Subject: one\n\nFirst message.\n" is 29 octets with LF, 32 on the wire with CRLF.
    assert sizes.detail.en == "Message 1: LIST says 29 octets, RETR sent 32."
    assert "C: RETR 1" in sizes.exchange
    assert verdicts(report, "login")[0].status is Status.PASS


def _serve_once(behaviour) -> tuple[int, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run() -> None:
        with listener:
            listener.settimeout(5)
            try:
                while True:
                    connection, _ = listener.accept()
                    with connection:
                        behaviour(connection)
            except OSError:
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


def test_a_server_that_never_answers_fails_with_a_timeout_not_a_traceback() -> None:
    def silent(connection: socket.socket) -> None:
        connection.recv(10)  # hold the connection until the testbench gives up

    port, _ = _serve_once(silent)
    greeting_check = load_level("rfc821").checks[0]
    greeting = run_one(greeting_check, ServerCheck(Target(Protocol.SMTP, "127.0.0.1", port), timeout=0.2))
    assert greeting.status is Status.FAIL
    assert greeting.detail.en.startswith("Step 1: the server did not answer within 0.2 s")
    assert "no respondió en 0.2 s" in greeting.detail.es


def test_a_server_that_closes_at_once_fails_each_check_clearly() -> None:
    port, _ = _serve_once(lambda connection: None)
    report = run_server_check(ServerCheck(Target(Protocol.POP3, "127.0.0.1", port), timeout=1))
    assert failed(report) == {v.check for v in report.verdicts}
    assert "line-ends" not in {v.check for v in report.verdicts}  # it never said a line: nothing to judge
    assert verdicts(report, "greeting")[0].detail.en == "Step 1: the server closed the connection."
    assert verdicts(report, "sizes")[0].status is Status.FAIL


def test_a_server_that_floods_is_stopped_at_the_reply_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from mailsim.testbench import dialog

    monkeypatch.setattr(dialog, "MAX_REPLY", 4096)

    def flood(connection: socket.socket) -> None:
        try:
            while True:
                connection.sendall(b"220-spam spam spam spam spam spam spam spam spam spam\r\n" * 100)
        except OSError:
            return

    port, _ = _serve_once(flood)
    greeting = run_one(load_level("rfc821").checks[0], ServerCheck(Target(Protocol.SMTP, "127.0.0.1", port), timeout=2))
    assert greeting.status is Status.FAIL
    assert greeting.detail.en == "Step 1: the server's reply went over 4096 octets, more than any answer to this command should be."


@pytest.mark.parametrize("protocol", list(Protocol))
def test_a_server_that_answers_garbage_gets_verdicts_not_a_traceback(protocol: Protocol) -> None:
    def garbage(connection: socket.socket) -> None:
        connection.sendall(b"\xff\xfe\x00 not a greeting {7}\r\nabc\r\n")

    port, _ = _serve_once(garbage)
    report = run_server_check(ServerCheck(Target(protocol, "127.0.0.1", port), timeout=0.5))
    checks = [v for v in report.verdicts if v.check != "line-ends"]  # its lines did end in CRLF
    assert checks and all(v.failed for v in checks)
    assert checks[0].detail.en.startswith("Step 1:")


def test_nothing_listening_is_reported_as_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        report = run_server_check(ServerCheck(Target(Protocol.IMAP, "127.0.0.1", port), timeout=1))
    assert all(v.failed for v in report.verdicts)
    assert report.verdicts[0].detail.en.startswith(f"Cannot connect to 127.0.0.1:{port}:")


def test_an_assignment_adds_checks_and_skips_others(mailsim_servers: RunningServers) -> None:
    from mailsim.testbench.assignment import load_assignment
    from testbench.helpers import ASSIGNMENTS

    assignment = load_assignment(ASSIGNMENTS / "smtp-server-minimal.toml")
    report = run_server_check(smtp(mailsim_servers.ports[Protocol.SMTP], assignment=assignment))
    assert report.level == "smtp-server-minimal"
    assert {v.check for v in report.verdicts} == RFC821 | {"two-messages", "line-ends"}
    assert failed(report) == set()


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("smtp://127.0.0.1:2525", Target(Protocol.SMTP, "127.0.0.1", 2525)),
        ("pop3://localhost", Target(Protocol.POP3, "localhost", 1110)),
        ("IMAP://[::1]:9143", Target(Protocol.IMAP, "::1", 9143)),
    ],
)
def test_parse_target(url: str, target: Target) -> None:
    assert parse_target(url) == target


@pytest.mark.parametrize("url", ["http://x:80", "127.0.0.1:25", "smtp://host:99999"])
def test_parse_target_refuses_what_it_cannot_use(url: str) -> None:
    with pytest.raises(ValueError):
        parse_target(url)
