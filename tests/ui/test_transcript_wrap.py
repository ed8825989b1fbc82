"""Long lines wrap in the transcript, marked `↪`; the byte view stays one row per line;
side by side (F6) at 120 columns each console keeps room to read."""

from __future__ import annotations

import pytest

from .helpers import test_app

LONG = "VRFY " + "x" * 150


async def submit(pilot, line: str) -> None:
    """A whole line typed into the active console and sent."""
    app = pilot.app
    app.main.pane(app.active_model().session_id).command_input.value = line
    await pilot.press("enter")
    await pilot.pause()


def rows_of(transcript) -> list[str]:
    return [transcript.render_line(y).text.rstrip() for y in range(transcript.size.height)]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_long_line_wraps_with_a_continuation_mark(size):
    app = test_app()
    async with app.run_test(size=size) as pilot:
        await submit(pilot, LONG)
        await pilot.pause()
        transcript = app.main.pane(app.active_model().session_id).transcript
        index = next(i for i, line in enumerate(transcript.model.lines) if line.data.startswith(b"VRFY"))
        rows = transcript.line_rows(index)
        assert rows[0].startswith("C: VRFY")
        assert len(rows) >= 2 and all(row.startswith(" ↪ ") for row in rows[1:]), rows
        assert "".join(row[3:] for row in rows) == LONG  # every character shown, none cut at the edge
        assert all(len(row) <= transcript.scrollable_content_region.width for row in rows)
        note = next(i for i, line in enumerate(transcript.model.lines) if "»" in transcript.describe(line))
        note_rows = transcript.line_rows(note)
        assert len(note_rows) >= 2 and note_rows[1].startswith(" ↪ ")
        assert rows_of(transcript)[-1]  # the end is in view
        assert transcript.virtual_size.width <= transcript.size.width  # nothing to scroll sideways


async def test_byte_view_does_not_wrap():
    app = test_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, LONG)
        await pilot.press("f8")
        await pilot.pause()
        transcript = app.main.pane(app.active_model().session_id).transcript
        rows = rows_of(transcript)
        assert not any(row.startswith(" ↪ ") for row in rows), rows
        assert any(row.startswith("C:   157 VRFY xxx") for row in rows), rows
        assert transcript.virtual_size.width > transcript.size.width  # scrolled sideways instead


async def test_wrapping_follows_the_width():
    app = test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, LONG)
        transcript = app.main.pane(app.active_model().session_id).transcript
        wide_rows = transcript.virtual_size.height
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert transcript.virtual_size.height > wide_rows
        assert transcript.is_vertical_scroll_end  # still following the end


async def test_split_at_120_columns_leaves_each_console_room():
    app = test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        panes = app.main.panes()
        assert len(panes) == 2
        assert all(pane.size.width >= 40 for pane in panes), [pane.size.width for pane in panes]
        await pilot.press("f6")
        await pilot.pause()
        assert app.main.pane(app.active_model().session_id).size.width > 60  # one console again: the full sidebar is back


async def test_pasted_lines_are_sent_one_by_one_as_typed_through_data():
    from textual import events

    from mailsim.events import ClientLine

    app = test_app()
    sent = []
    app.bus.subscribe(lambda e: sent.append(e.data) if isinstance(e, ClientLine) else None)
    async with app.run_test(size=(80, 24)) as pilot:
        model = app.active_model()
        command = app.main.pane(model.session_id).command_input
        paste = ("EHLO a\r\nMAIL FROM:<alice@mailsim.test>\nRCPT TO:<bob@mailsim.test>\nDATA\n"
                 "Subject: pasted\n\n.hidden dot\n.\nNOOP")
        command.post_message(events.Paste(paste))
        for _ in range(20):
            await pilot.pause()
        assert sent == [b"EHLO a\r\n", b"MAIL FROM:<alice@mailsim.test>\r\n", b"RCPT TO:<bob@mailsim.test>\r\n",
                        b"DATA\r\n", b"Subject: pasted\r\n", b"\r\n", b".hidden dot\r\n", b".\r\n"]
        assert command.value == "NOOP"  # after the last line break: left to send with Enter
        assert [r.code for r in model.replies][-2:] == ["354", "250"]  # the message was delivered
        assert command.history[-1] == "DATA"  # message lines are not commands to recall
