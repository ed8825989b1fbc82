"""The smaller things a class stumbled on: one key, one meaning; a general note read
once; texts in the UI's language; the language chosen from the locale and said so."""

from __future__ import annotations

import io

from mailsim.events import Note, Protocol
from mailsim.lesson.commands import list_lessons
from mailsim.protocol.registry import ENGINES
from mailsim.ui.app import MailsimApp, make_app

from .helpers import test_app


def test_ctrl_s_only_sends_and_the_screenshot_has_its_own_key():
    keys = {binding.key: binding.action for binding in MailsimApp.BINDINGS}
    assert "ctrl+s" not in keys  # the editor's and the composer's "send"
    assert keys["f11"] == "screenshot" and keys["f12"] == "queue"


async def test_a_general_note_is_shown_in_the_first_session_only():
    app = test_app()
    notes: list[Note] = []
    app.bus.subscribe(lambda e: notes.append(e) if isinstance(e, Note) else None)
    async with app.run_test(size=(80, 24)) as pilot:
        first = app.active_model()
        app.send(first.session_id, "VRFY alice")
        await pilot.press("f2")
        await pilot.pause()
        second = app.active_model()
        assert second is not first
        app.send(second.session_id, "VRFY alice")
        await pilot.pause()
        key = "smtp.enhanced-status-codes"
        assert sum(n.key == key for n in notes) == 2  # both sessions said it (and recordings keep it)
        assert any(n.key == key for n in first.notes)
        assert not any(n.key == key for n in second.notes)  # shown once in this app


async def test_close_reasons_are_in_spanish():
    app = test_app(lang="es", engines=ENGINES, open_on_start=("imap",))
    async with app.run_test(size=(80, 24)) as pilot:
        model = app.active_model()
        app.send(model.session_id, "a LOGOUT")
        await pilot.pause()
        hint = str(app.main.pane(model.session_id).hint.content)
        assert "el cliente dijo LOGOUT" in hint and "client logged out" not in hint


async def test_the_language_from_the_locale_is_said_with_how_to_change_it(monkeypatch):
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    app = make_app(lang=None, open_on_start=(Protocol.SMTP,), cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.lang == "en"
        said = [n.message for n in app._notifications]
        assert any("LANG=C.UTF-8" in m and "F9" in m and "--lang es" in m for m in said), said


def test_lessons_list_prints_levels_in_the_language():
    out = io.StringIO()
    list_lessons("es", out=out, err=io.StringIO())
    assert "inicial" in out.getvalue() and "beginner" not in out.getvalue()
