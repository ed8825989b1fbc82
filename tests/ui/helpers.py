"""The app as the tests build it: the student's app with deterministic settings."""

from __future__ import annotations

from uihelpers import HeldClock
from uihelpers import enter_line as type_line, enter_lines as type_lines  # noqa: F401 (the tests' names)

from mailsim.clock import FixedClock, SequentialIds
from mailsim.events import Protocol
from mailsim.protocol.smtp import SmtpSession
from mailsim.store.world import build_store
from mailsim.ui.app import MailsimApp, make_app

# Only SMTP, whatever else the registry holds today: "not built yet" stays testable
# and snapshots do not change when another engine lands.
SMTP_ONLY = {Protocol.SMTP: SmtpSession}

WHOLE_SESSION = [
    "EHLO client.example",
    "MAIL FROM:<alice@mailsim.test>",
    "RCPT TO:<bob@mailsim.test>",
    "DATA",
    "From: Alice <alice@mailsim.test>",
    "To: Bob <bob@mailsim.test>",
    "Subject: =?utf-8?q?Hola_se=C3=B1or?=",
    "",
    "Hi Bob, this came through the console.",
    ".",
]


def test_app(**options) -> MailsimApp:
    clock = FixedClock(1_790_000_000.0)
    ids = SequentialIds("Q")
    store = options.pop("store", None) or build_store(clock=clock, ids=ids)
    options.setdefault("engines", SMTP_ONLY)
    options.setdefault("lang", "en")
    options.setdefault("highlight_clock", HeldClock())
    return make_app(store, clock=clock, ids=ids, cursor_blink=False, **options)


test_app.__test__ = False  # a factory, not a test (pytest would collect the name)
