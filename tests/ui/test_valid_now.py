""""Valid now" under the console: what matters in the state first, and DONE in IDLE."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from mailsim.protocol.registry import ENGINES

from .helpers import test_app


def shown(pane) -> str:
    """The hint's two rows as the student sees them at the pane's width."""
    console = Console(width=pane.hint.size.width - 2, record=True, file=io.StringIO())
    console.print(pane.hint.content)
    return "\n".join(console.export_text().splitlines()[:2])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_imap_selected_shows_fetch_search_store_and_idle_shows_done(size):
    app = test_app(engines=ENGINES, open_on_start=("imap",))
    async with app.run_test(size=size) as pilot:
        session_id = app.active_model().session_id
        for line in ("a LOGIN alice wonderland", "b SELECT INBOX"):
            app.send(session_id, line)
        await pilot.pause()
        pane = app.main.pane(session_id)
        text = shown(pane)
        for verb in ("FETCH", "SEARCH", "STORE"):
            assert verb in text, text
        app.send(session_id, "c IDLE")
        await pilot.pause()
        assert "DONE" in shown(pane)
