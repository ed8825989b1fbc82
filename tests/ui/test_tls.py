"""TLS in the console: typing STARTTLS really upgrades the session (an in-memory TLS
pair), the transcript marks the point and the handshake, the byte view shows TLS
records instead of text afterwards, and SASL base64 is decoded in the student's own
console, with a warning when a password crosses in cleartext."""

from __future__ import annotations

import base64

from mailsim.events import ClientLine, TlsStarted
from mailsim.ui.model import Direction
from mailsim.ui.widgets.command_input import CommandInput
from mailsim.ui.widgets.transcript import TranscriptView

from .helpers import test_app as make_test_app

SIZE = (120, 40)
PLAIN = base64.b64encode(b"\0alice\0wonderland").decode()


async def enter(pilot, line: str) -> None:
    """Type a whole line into the focused console input and press Enter."""
    command = pilot.app.screen.focused
    assert isinstance(command, CommandInput)
    command.value = line
    await pilot.press("enter")
    await pilot.pause()


async def test_starttls_upgrades_the_console_session_and_the_byte_view_shows_ciphertext():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        seen = []
        app.bus.subscribe(seen.append)
        await pilot.pause()
        await enter(pilot, "EHLO aula.example")
        model = app.active_model()
        assert any(line.data == b"250-STARTTLS\r\n" for line in model.lines)
        await enter(pilot, "STARTTLS")
        [started] = [e for e in seen if isinstance(e, TlsStarted)]
        assert started.version.startswith("TLSv1.") and started.fingerprint and not started.implicit
        info = [line for line in model.lines if line.event is started]
        assert info and "TLS started" in app.describe(info[0])
        await enter(pilot, "EHLO aula.example")
        await enter(pilot, f"AUTH PLAIN {PLAIN}")
        after = model.lines[model.lines.index(info[0]) + 1 :]
        client = [line for line in after if line.direction is Direction.CLIENT]
        # Every line after the upgrade is marked encrypted; each record's octets are TLS
        # application data (content type 23, version 3.3), never the text itself.
        assert client and all(line.encrypted for line in after if line.direction is not Direction.INFO)
        assert all(line.wire[:3] == b"\x17\x03\x03" and b"EHLO" not in line.wire for line in client)
        # Over TLS the PLAIN response is still decoded for the student, without a warning.
        auth = next(line for line in client if line.data.startswith(b"AUTH PLAIN"))
        assert auth.decoded == "␀alice␀wonderland" and not auth.cleartext_password
        # The engine heard the plaintext: it answered 235.
        assert any(line.data.startswith(b"235 ") for line in after)
        await pilot.press("f8")
        await pilot.pause()
        transcript = app.main.query(TranscriptView).first()
        rendered = "".join(transcript._render(line, transcript.base_style).text for line in client)
        assert "17 03 03" in rendered and "EHLO" not in rendered


async def test_a_password_in_cleartext_is_decoded_and_flagged_but_not_recorded_decoded():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        sent = []
        app.bus.subscribe(lambda e: sent.append(e.data) if isinstance(e, ClientLine) else None)
        await pilot.pause()
        await enter(pilot, "EHLO aula.example")
        await enter(pilot, "AUTH LOGIN")
        await enter(pilot, base64.b64encode(b"alice").decode())
        await enter(pilot, base64.b64encode(b"wonderland").decode())
        model = app.active_model()
        challenges = [line.decoded for line in model.lines if line.data.startswith(b"334 ")]
        assert challenges == ["Username:", "Password:"]
        user, password = [line for line in model.lines if line.direction is Direction.CLIENT][-2:]
        assert (user.decoded, user.cleartext_password) == ("alice", False)
        assert (password.decoded, password.cleartext_password) == ("wonderland", True)
        # The Bus (and so recordings and the wire log) carry only the wire bytes.
        assert b"d29uZGVybGFuZA==\r\n" in sent and b"wonderland\r\n" not in sent


async def test_an_implicit_tls_session_from_the_palette_action():
    app = make_test_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.run_action("open_tls_session('smtp')")
        await pilot.pause()
        model = app.active_model()
        assert model.secure and model.tls is not None and model.tls.implicit
        greeting = next(line for line in model.lines if line.direction is Direction.SERVER)
        assert greeting.encrypted and greeting.wire[:3] == b"\x17\x03\x03"


def test_snapshot_of_an_upgraded_session(snap_compare):
    """The upgrade marked in the transcript with the handshake's summary, and AUTH PLAIN
    decoded beside its base64 (the console's certificate is fixed, so is its fingerprint)."""

    async def run_before(pilot):
        await pilot.pause()
        for line in ("EHLO aula.example", "STARTTLS", "EHLO aula.example", f"AUTH PLAIN {PLAIN}"):
            await enter(pilot, line)

    assert snap_compare(make_test_app(), terminal_size=SIZE, run_before=run_before)


def test_sasl_tracker_flags_plain_passwords_of_every_kind():
    from mailsim.events import Protocol
    from mailsim.ui.sasl_decode import SaslTracker

    pop3 = SaslTracker(Protocol.POP3)
    assert pop3.client(b"USER alice\r\n") is None
    assert pop3.client(b"PASS wonderland\r\n").password
    imap = SaslTracker(Protocol.IMAP)
    assert imap.client(b"a1 LOGIN alice wonderland\r\n").password
    assert imap.client(b"a2 AUTHENTICATE CRAM-MD5\r\n") is None
    assert imap.server(b"+ PDEyMzRAbWFpbHNpbS50ZXN0Pg==\r\n").text == "<1234@mailsim.test>"
    cram = imap.client(b"YWxpY2UgMDEyMzQ1Njc4OWFiY2RlZg==\r\n")
    assert cram.text == "alice 0123456789abcdef" and not cram.password  # a digest, not the password
    assert imap.server(b"a2 NO [AUTHENTICATIONFAILED] Invalid user name or password\r\n") is None
    assert imap.client(b"a3 NOOP\r\n") is None  # the exchange is over
