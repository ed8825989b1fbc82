"""The inspector driven with the keyboard: the tree, the details, the raw view."""

from __future__ import annotations

import base64
import os

from mailsim.mime import build_model
from mailsim.ui.inspector.app import make_inspector_app
from mailsim.ui.inspector.screen import InspectorScreen
from textual.widgets import Static

from .samples import CARTA, FORWARDED, MALFORMED, all_samples


def text_of(screen: InspectorScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_walking_the_tree_highlights_each_part_byte_range() -> None:
    raw = CARTA.read_bytes()
    app = make_inspector_app(raw, title="carta")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: InspectorScreen = app.screen
        expected = list(build_model(raw).walk())
        seen = []
        for index, node in enumerate(expected):
            if index:
                await pilot.press("down")
                await pilot.pause()
            shown = screen.details.node
            seen.append(shown.label)
            assert screen.tree.cursor_node.data is shown
            # The raw view highlights exactly the part's octets, and shows them.
            assert screen.raw_view.selection == (node.header_start, node.end)
            first_line = screen.raw_view.line_of(node.header_start)
            top = screen.raw_view.scroll_y
            assert top <= first_line < top + screen.raw_view.scrollable_content_region.height
        assert seen == ["TEXT", "1", "2"]


async def test_details_explain_the_attachment_and_toggle_encoded_decoded() -> None:
    app = make_inspector_app(CARTA.read_bytes())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: InspectorScreen = app.screen
        assert screen.select_section("2")
        await pilot.pause()
        details = screen.details
        assert "Carta.odt" in text_of(screen, "#part-summary")
        explained = text_of(screen, "#part-explained")
        assert "base64: every 3 octets become 4 characters" in explained
        assert "filename=Carta.odt" in explained
        encoded, decoded = screen.query_one("#content-encoded"), screen.query_one("#content-decoded")
        assert details.mode == "both" and encoded.display and decoded.display
        assert "UEsDBBQAAAAAACBVI11exjIM" in text_of(screen, "#content-encoded")
        assert "50 4b 03 04" in text_of(screen, "#content-decoded")  # "PK\3\4": a zip file
        await pilot.press("e")
        assert details.mode == "decoded" and decoded.display and not encoded.display
        await pilot.press("e")
        assert details.mode == "encoded" and encoded.display and not decoded.display
        await pilot.press("e")
        assert details.mode == "both"


async def test_quoted_printable_text_shows_both_forms() -> None:
    app = make_inspector_app(CARTA.read_bytes())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: InspectorScreen = app.screen
        screen.select_section("1")
        await pilot.pause()
        assert "env=C3=ADe" in text_of(screen, "#content-encoded")
        assert "envíe" in text_of(screen, "#content-decoded")


async def test_jump_to_raw_focuses_it_and_keeps_the_part_in_view() -> None:
    app = make_inspector_app(CARTA.read_bytes())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen: InspectorScreen = app.screen
        await pilot.press("down", "down")
        await pilot.press("end")  # the tree stays where it is; nothing else moves
        await pilot.press("r")
        await pilot.pause()
        raw_view = screen.raw_view
        assert app.focused is raw_view
        start, _end = raw_view.selection
        line = raw_view.line_of(start)
        assert raw_view.scroll_y <= line < raw_view.scroll_y + raw_view.scrollable_content_region.height


async def test_forwarded_message_sections_and_language_switch() -> None:
    app = make_inspector_app(FORWARDED.read_bytes(), lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: InspectorScreen = app.screen
        labels = [row.data.label for row in screen.tree._by_node.values()]
        assert labels == ["TEXT", "1", "2", "2.1"]
        screen.select_section("2")
        await pilot.pause()
        assert "message/rfc822" in text_of(screen, "#part-explained")
        await pilot.press("f9")
        await pilot.pause()
        assert screen.texts.lang == "es"
        assert "mensaje completo" in text_of(screen, "#part-explained")
        assert screen.tree.border_title == "Partes"


async def test_malformed_message_shows_defects_as_teaching_points() -> None:
    app = make_inspector_app(MALFORMED, lang="es")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: InspectorScreen = app.screen
        assert "Nunca llegó la línea de cierre" in text_of(screen, "#part-defects")
        screen.select_section("2")
        await pilot.pause()
        assert "caracteres fuera de A–Z" in text_of(screen, "#part-defects")


async def test_escape_quits_the_standalone_inspector() -> None:
    app = make_inspector_app(CARTA.read_bytes())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 0


async def test_every_sample_opens_and_every_part_shows() -> None:
    for path in all_samples():
        raw = path.read_bytes()
        app = make_inspector_app(raw, title=path.name)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            screen: InspectorScreen = app.screen
            for node in build_model(raw).walk():
                assert screen.select_section(node.label) or node.label == ""
                await pilot.pause()
                assert screen.raw_view.selection == (node.header_start, node.end), path.name


def big_message(parts: int = 200, octets: int = 25_000_000) -> bytes:
    chunk = base64.encodebytes(os.urandom(octets * 3 // 4 // parts)).replace(b"\n", b"\r\n")
    out = [b"Subject: big", b'Content-Type: multipart/mixed; boundary="b"', b""]
    for index in range(parts):
        out += [b"--b", b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: base64",
                b'Content-Disposition: attachment; filename="f%d.bin"' % index, b"", chunk]
    out += [b"--b--", b""]
    return b"\r\n".join(out)


async def test_a_25_mb_message_renders_only_the_visible_lines() -> None:
    raw = big_message()
    app = make_inspector_app(raw)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen: InspectorScreen = app.screen
        raw_view = screen.raw_view
        assert raw_view.line_count > 300_000
        assert len(raw_view._cache) <= raw_view.scrollable_content_region.height + 2
        screen.select_section("200")
        await pilot.pause()
        assert raw_view.scroll_y > 300_000
        assert len(raw_view._cache) <= raw_view.scrollable_content_region.height + 2
