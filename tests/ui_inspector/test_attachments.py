"""An attachment is known by its name in the tree, and can be saved; Ctrl+T in an IMAP
or POP3 session with nothing fetched yet types the command that gets a message."""

from __future__ import annotations

from pathlib import Path

from mailsim.events import Protocol
from mailsim.mime import build_model
from mailsim.ui.inspector import InspectorScreen
from mailsim.ui.inspector.app import make_inspector_app
from mailsim.ui.inspector.save import save_part

from .samples import CARTA
from .test_main_app import main_app

HOSTILE = (b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"../../evil.txt\"\r\n\r\n"
           b"gotcha\r\n--b--\r\n")


async def test_the_tree_names_the_attachment_first_and_s_saves_it_decoded(tmp_path: Path) -> None:
    app = make_inspector_app(CARTA.read_bytes(), title="Carta")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        screen.save_folder = tmp_path
        row = screen.tree.row_of(screen.model.find("2"))
        assert row.label.plain.split()[2] == "Carta.odt"  # marker, section, then the name
        shown = [screen.tree.render_line(y).text for y in range(4)]
        assert any(line.rstrip().endswith("application/vnd.oasis.opendocument.text") for line in shown), shown
        screen.select_section("2")
        await pilot.press("s")
        await pilot.press("s")
        await pilot.pause()
        saved = tmp_path / "Carta.odt"
        assert saved.read_bytes() == screen.model.find("2").payload  # base64 undone
        assert saved.read_bytes().startswith(b"PK")  # an OpenDocument file is a zip
        assert (tmp_path / "Carta (2).odt").exists()  # never overwritten


def test_a_file_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    node = build_model(HOSTILE).find("1")
    path = save_part(node, tmp_path)
    assert path == tmp_path / "evil.txt" and path.read_bytes().strip() == b"gotcha"
    message = save_part(build_model(HOSTILE).root, tmp_path)
    assert message.suffix == ".eml" and message.read_bytes() == HOSTILE


async def test_ctrl_t_with_nothing_fetched_types_a_fetch_then_opens_it() -> None:
    app = main_app(Protocol.IMAP)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        model = app.active_model()
        for line in ("a LOGIN alice wonderland", "b SELECT INBOX"):
            app.send(model.session_id, line)
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not isinstance(app.screen, InspectorScreen)
        command = app.main.pane(model.session_id).command_input
        assert command.value == "m3 FETCH 7 BODY.PEEK[]"  # the newest, read without marking it \\Seen
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen)
        assert app.screen.model.raw == app.store.mailbox("alice", "INBOX").messages[6].raw


async def test_ctrl_t_after_fetch_flags_opens_the_stored_message() -> None:
    app = main_app(Protocol.IMAP)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        model = app.active_model()
        for line in ("a LOGIN alice wonderland", "b SELECT INBOX", "c FETCH 3 FLAGS"):
            app.send(model.session_id, line)
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen)
        assert app.screen.model.raw == app.store.mailbox("alice", "INBOX").messages[2].raw
