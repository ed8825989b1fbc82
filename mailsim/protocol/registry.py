"""Which engine serves which protocol; transports and the console look it up here.

An engine's module is imported the first time its protocol is looked up: the app opens
an SMTP console at start and should not wait for the IMAP engine and the MIME model.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from mailsim.events import Protocol

if TYPE_CHECKING:
    from mailsim.protocol.base import Session

_ENGINE_CLASSES: dict[Protocol, tuple[str, str]] = {
    Protocol.SMTP: ("mailsim.protocol.smtp", "SmtpSession"),
    Protocol.POP3: ("mailsim.protocol.pop3", "Pop3Session"),
    Protocol.IMAP: ("mailsim.protocol.imap", "ImapSession"),
}


class _Engines(Mapping[Protocol, "type[Session]"]):
    """`ENGINES[protocol]`: the Session class, imported on first use."""

    def __getitem__(self, protocol: Protocol) -> type[Session]:
        module, name = _ENGINE_CLASSES[protocol]
        return getattr(importlib.import_module(module), name)

    def __contains__(self, protocol: object) -> bool:
        return protocol in _ENGINE_CLASSES

    def __iter__(self) -> Iterator[Protocol]:
        return iter(_ENGINE_CLASSES)

    def __len__(self) -> int:
        return len(_ENGINE_CLASSES)


ENGINES: Mapping[Protocol, type[Session]] = _Engines()
