"""Which engine serves which protocol; transports and the console look it up here."""

from __future__ import annotations

from mailsim.events import Protocol
from mailsim.protocol.base import Session
from mailsim.protocol.imap import ImapSession
from mailsim.protocol.pop3 import Pop3Session
from mailsim.protocol.smtp import SmtpSession

ENGINES: dict[Protocol, type[Session]] = {
    Protocol.SMTP: SmtpSession,
    Protocol.POP3: Pop3Session,
    Protocol.IMAP: ImapSession,
}
