"""The MIME model: a message's tree, byte ranges and IMAP views.

No Textual, asyncio or sockets here: the IMAP engine and the inspector both
import this package, so they can never disagree about a message.
"""

from mailsim.mime.model import MAX_DEPTH, Defect, HeaderField, MimeModel, MimeNode, build_model

__all__ = ["MAX_DEPTH", "Defect", "HeaderField", "MimeModel", "MimeNode", "build_model"]
