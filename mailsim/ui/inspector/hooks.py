"""How other screens open the inspector: on a stored message, on the last
message of a session transcript, or on any raw bytes."""

from __future__ import annotations

from typing import Any

from mailsim.ui.inspector.from_session import last_message
from mailsim.ui.inspector.screen import InspectorScreen
from mailsim.ui.inspector.texts import Texts


def inspect_raw(app: Any, raw: bytes, title: str = "") -> InspectorScreen:
    """Push the inspector on ``raw``; returns the screen."""
    screen = InspectorScreen.from_bytes(raw, title=title, lang=getattr(app, "lang", "en"))
    app.push_screen(screen)
    return screen


def inspect_stored(app: Any, account: str, mailbox: str, uid: int) -> InspectorScreen | None:
    """The mailbox view's Enter: inspect message ``uid`` of ``account/mailbox``."""
    try:
        messages = app.store.mailbox(account, mailbox).messages
    except Exception:
        return None
    for message in messages:
        if message.uid == uid:
            return inspect_raw(app, message.raw, f"{account}/{mailbox} UID {uid}")
    return None


def inspect_stored_section(app: Any, raw: bytes, section: str, title: str = "") -> InspectorScreen:
    """The inspector on ``raw`` with the part ``section`` names ("2.1") selected."""
    screen = inspect_raw(app, raw, title)
    if section:
        screen.call_after_refresh(screen.select_section, section)
    return screen


def inspect_session(app: Any, model: Any) -> InspectorScreen | None:
    """Inspect the message a session last sent (DATA), retrieved (RETR/TOP)
    or fetched (FETCH); tell the student when there is none yet."""
    raw = last_message(model.protocol, model.lines) if model is not None else None
    if raw is None:
        app.notify(Texts(getattr(app, "lang", "en"))("ui.no-message"), severity="warning")
        return None
    title = f"{model.protocol.value.upper()} {getattr(model, 'number', '')}".strip()
    return inspect_raw(app, raw, title)
