"""The one mail store shared by SMTP, POP3 and IMAP (no protocol code here)."""

from mailsim.store.model import INBOX, Account, Mailbox, QueuedMessage, StoredMessage
from mailsim.store.store import MailStore, StoreError

__all__ = ["INBOX", "Account", "Mailbox", "MailStore", "QueuedMessage", "StoreError", "StoredMessage"]
