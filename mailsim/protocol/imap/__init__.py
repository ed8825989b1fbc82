"""The IMAP4rev1 server engine: grammar (`parser`), session and states (`session`),
FETCH rendering (`fetch`), SEARCH (`search`), LIST matching (`mailboxes`), the cached
per-message facts both rely on (`index`), and mailbox-name encoding (`mutf7`)."""

from mailsim.protocol.imap.session import TRANSITIONS, ImapReplies, ImapSession, ImapState

__all__ = ["TRANSITIONS", "ImapReplies", "ImapSession", "ImapState"]
