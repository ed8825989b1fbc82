"""How the main app opens the composer and sends what it returns.

The composed message goes out the way a student would type it: a new SMTP
console session receives EHLO, MAIL FROM, RCPT TO, DATA and the dot-stuffed
message, line by line, so the transcript shows every command and reply.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from mailsim.mime.compose import Draft, Submission
from mailsim.ui.composer.screen import ComposerScreen
from mailsim.ui.inspector.texts import Texts

CRLF = b"\r\n"
_HEADERS = BytesHeaderParser(policy=policy.default)


def message_label(account: str, mailbox: str, message: Any) -> str:
    """``alice/INBOX 3 · Subject`` for a stored message."""
    try:
        subject = " ".join(str(_HEADERS.parsebytes(message.raw).get("subject", "")).split())
    except Exception:
        subject = ""
    return f"{account}/{mailbox} {message.uid} · {subject or '—'}"


def forwardable_messages(store: Any) -> list[tuple[str, bytes]]:
    """(label, raw) of every stored message, for the composer's forward list."""
    found = []
    for account in store.accounts.values():
        for name, mailbox in account.mailboxes.items():
            for message in mailbox.messages:
                found.append((message_label(account.name, name, message), message.raw))
    return found


async def send_through_console(app: Any, submission: Submission) -> Any:
    """Open an SMTP console session on ``app`` and type ``submission`` into it.
    Returns the session's model (None if SMTP is not available)."""
    model = await app.open_session("smtp")
    connection = getattr(model, "connection", None)
    if connection is None:
        return None
    client = f"client.{getattr(app.store, 'domain', 'mailsim.test')}"
    for line in submission.lines(client_name=client):
        connection.send_bytes(line + CRLF)
    return model


def open_composer(app: Any, draft: Draft | None = None) -> None:
    """Push the composer on ``app``; when the student sends, type it into SMTP."""
    store = app.store
    if draft is None:
        first = next(iter(store.accounts.values()), None)
        draft = Draft(sender=first.address if first is not None else "")
    lang = getattr(app, "lang", "en")

    async def sent(submission: Submission | None) -> None:
        if submission is None:
            return
        model = await send_through_console(app, submission)
        if model is not None:
            name = f"SMTP {getattr(model, 'number', '')}".strip()
            app.notify(Texts(lang)("ui.composer-sent", session=name))

    app.push_screen(ComposerScreen(draft, forwardable=forwardable_messages(store), lang=lang), sent)
