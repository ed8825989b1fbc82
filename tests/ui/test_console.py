"""The console transport and the table readers, without Textual."""

from __future__ import annotations

import base64

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import ClientLine, Closed, Note, Reply, ServerLine
from mailsim.protocol.smtp import SmtpSession, SmtpState
from mailsim.store.world import build_store
from mailsim.transcript.bus import Bus
from mailsim.ui import machine
from mailsim.ui.console import ConsoleConnection


def _console():
    store = build_store(clock=FixedClock(), ids=SequentialIds("Q"))
    bus = Bus()
    seen = []
    bus.subscribe(seen.append)
    timers = []
    connection = ConsoleConnection(
        SmtpSession, store, bus, session_id="console-smtp-1",
        schedule=lambda seconds, callback: timers.append((seconds, callback)),
    )
    connection.open()
    return connection, seen, timers


def test_sends_the_line_with_crlf_like_telnet():
    connection, seen, _timers = _console()
    connection.send_line("EHLO client.example")
    client = [e for e in seen if isinstance(e, ClientLine)]
    assert client[0].data == b"EHLO client.example\r\n"
    assert connection.session.state is SmtpState.GREETED


def test_a_delayed_reply_waits_and_later_input_waits_behind_it():
    connection, seen, timers = _console()
    connection.send_line("EHLO client.example")
    bad = base64.b64encode(b"\0alice\0wrong").decode()
    before = len(seen)
    connection.send_line(f"AUTH PLAIN {bad}")
    connection.send_line("NOOP")
    new = seen[before:]
    # The student's line shows at once; the 535 is held for the engine's delay.
    assert [type(e) for e in new] == [ClientLine]
    assert len(timers) == 1 and timers[0][0] > 0
    assert connection.busy
    timers[0][1]()
    codes = [e.code for e in seen[before:] if isinstance(e, Reply)]
    assert codes == ["535", "250"]
    assert not connection.busy


def test_hang_up_is_an_eof_for_the_server():
    connection, seen, _timers = _console()
    connection.send_line("EHLO client.example")
    connection.send_line("MAIL FROM:<alice@mailsim.test>")
    before = len(seen)
    connection.hang_up()
    after = seen[before:]
    # An EOF, not a QUIT: nothing crosses the wire either way; the server notes the
    # transaction it drops, and the session ends.
    assert not [e for e in after if isinstance(e, (ClientLine, ServerLine))]
    assert [e.key for e in after if isinstance(e, Note)] == ["smtp.abandoned-transaction"]
    assert isinstance(after[-1], Closed) and after[-1].reason == "client closed the connection"
    assert connection.closed
    connection.send_line("RCPT TO:<bob@mailsim.test>")  # typed after the hang-up: goes nowhere
    assert len(seen) == before + len(after)


def test_valid_verbs_come_from_the_table():
    assert machine.valid_verbs(SmtpSession, "connected")[:2] == ["EHLO", "HELO"]
    assert "MAIL" not in machine.valid_verbs(SmtpSession, "connected")
    assert [c.verb for c in machine.commands_now(SmtpSession, "rcpt")][:1] == ["EHLO"]
    assert "DATA" in [c.verb for c in machine.commands_now(SmtpSession, "rcpt")]
    # Pseudo-verbs are in the table but are no commands to suggest.
    assert "<end of data>" in machine.valid_verbs(SmtpSession, "data")
    assert machine.commands_now(SmtpSession, "data") == []


def test_the_body_state_makes_the_input_multiline():
    assert machine.is_multiline(SmtpSession, "data")
    assert not machine.is_multiline(SmtpSession, "rcpt")
    assert not machine.is_multiline(None, "data")


def test_every_table_entry_is_an_edge_of_the_diagram():
    table = machine.transitions_of(SmtpSession)
    edges = machine.edges_of(SmtpSession)
    for (source, verb), target in table.items():
        assert any(e.source == source.value and e.target == target.value and verb in e.verbs for e in edges)
    loops, exits = machine.common_verbs(SmtpSession)
    assert {"NOOP", "HELP"} <= loops
    assert exits == {"QUIT"}
    assert "MAIL" not in loops | exits


def test_syntax_stub_stops_at_the_first_argument():
    commands = SmtpSession.COMMANDS
    assert machine.syntax_stub(commands["MAIL"]) == "MAIL FROM:<"
    assert machine.syntax_stub(commands["RCPT"]) == "RCPT TO:<"
    assert machine.syntax_stub(commands["EHLO"]) == "EHLO "
    assert machine.syntax_stub(commands["QUIT"]) == "QUIT"
