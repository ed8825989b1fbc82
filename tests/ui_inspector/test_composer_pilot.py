"""The composer: typing a path attaches a file and a base64 part appears."""

from __future__ import annotations

from textual.widgets import Input
from uihelpers import enter_line

from mailsim.mime.compose import Draft
from mailsim.ui.composer import ComposerScreen

from .harness import ComposerHost


def parts(screen: ComposerScreen) -> list[tuple[str, str, str]]:
    return [(n.label, n.content_type, n.transfer_encoding) for n in screen.raw_view.model.walk()]


async def test_attaching_a_file_turns_it_into_a_base64_part(tmp_path) -> None:
    odt = tmp_path / "Carta.odt"
    odt.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    app = ComposerHost(Draft(sender="alice@mailsim.test", to="bob@mailsim.test", subject="Carta", text="Hola"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: ComposerScreen = app.screen
        assert parts(screen) == [("1", "text/plain", "quoted-printable")]
        await enter_line(pilot, str(odt), into=screen.query_one("#composer-path", Input))
        assert parts(screen) == [
            ("TEXT", "multipart/mixed", "7bit"),
            ("1", "text/plain", "quoted-printable"),
            ("2", "application/vnd.oasis.opendocument.text", "base64"),
        ]
        rows = [row.data.label for row in screen.tree._by_node.values()]
        assert rows == ["TEXT", "1", "2"]
        raw = screen.raw_view.model.raw
        assert b"UEsDBAABAgMEBQYH" in raw  # base64 of PK\3\4 00 01 02 ...
        assert screen.raw_view.model.root.boundary.encode() in raw
        await pilot.press("ctrl+s")
        await pilot.pause()
    (submission,) = app.submissions
    assert submission.sender == "alice@mailsim.test" and submission.recipients == ("bob@mailsim.test",)
    assert submission.raw == raw


async def test_typing_fields_rebuilds_the_message() -> None:
    app = ComposerHost(Draft())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen: ComposerScreen = app.screen
        screen.query_one("#composer-subject", Input).focus()
        await pilot.press(*"Año")
        await pilot.pause(0.4)
        assert b"Subject: =?utf-8?q?A=C3=B1o?=" in screen.raw_view.model.raw


async def test_forwarding_adds_a_message_rfc822_part() -> None:
    inner = b"Subject: Reunion\r\n\r\nA las 10.\r\n"
    app = ComposerHost(Draft(text="Mira esto"), forwardable=[("alice/INBOX 2 · Reunion", inner)])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: ComposerScreen = app.screen
        screen.forward(0)
        await pilot.pause()
        assert ("2", "message/rfc822") in [(p[0], p[1]) for p in parts(screen)]
        screen.remove_last()
        assert parts(screen) == [("1", "text/plain", "quoted-printable")]


async def test_send_without_addresses_stays_and_says_why() -> None:
    app = ComposerHost(Draft(text="x"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)
    assert app.submissions == []


async def test_missing_file_is_reported(tmp_path) -> None:
    app = ComposerHost(Draft(text="x"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen: ComposerScreen = app.screen
        assert screen.attach(str(tmp_path / "nope.pdf")) is None
        assert parts(screen) == [("1", "text/plain", "quoted-printable")]
