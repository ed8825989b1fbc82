"""The wire log of `mailsim serve` marks the upgrade and failed handshakes."""

from __future__ import annotations

import io

from mailsim.events import Note, Protocol, TlsStarted
from mailsim.transcript.wirelog import WireLog


def test_the_wire_log_shows_the_handshake_and_tls_notes():
    log = WireLog(io.StringIO())
    started = TlsStarted("tcp-imap-1", 0.0, Protocol.IMAP, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "CN=mailsim.test", "AA:BB")
    line = log.format(started)
    assert "TLS started (STARTTLS): TLSv1.3 TLS_AES_256_GCM_SHA384" in line and "SHA-256 AA:BB" in line
    failed = Note("tcp-imap-2", 0.0, Protocol.IMAP, "tls.handshake-failed", (("reason", "WRONG_VERSION_NUMBER"),))
    assert log.format(failed).endswith("* tls.handshake-failed (reason=WRONG_VERSION_NUMBER)")
    assert log.format(Note("tcp-imap-2", 0.0, Protocol.IMAP, "imap.login-cleartext")) is None
