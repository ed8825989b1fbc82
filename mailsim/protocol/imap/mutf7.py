"""Modified UTF-7 for mailbox names on the wire (RFC 3501 §5.1.3).

The store keeps names as Unicode ("Enviados", "Borradores", "Papelera/Año 2025");
IMAP4rev1 carries them as 7-bit: printable ASCII stands for itself, "&" is "&-",
anything else is "&" + modified base64 of UTF-16BE + "-".
"""

from __future__ import annotations

import base64
import binascii


def encode_mailbox(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_mailbox(text: str) -> str:
    """Decode a name; raises ValueError on a malformed "&...-" sequence."""
    if "&" not in text:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "&":
            out.append(char)
            index += 1
            continue
        end = text.find("-", index + 1)
        if end < 0:
            raise ValueError('"&" starts an encoded sequence that never ends with "-"')
        chunk = text[index + 1 : end]
        if not chunk:
            out.append("&")
        else:
            padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
            try:
                out.append(base64.b64decode(padded, validate=True).decode("utf-16-be"))
            except (binascii.Error, UnicodeDecodeError):
                raise ValueError(f'"&{chunk}-" is not valid modified UTF-7') from None
        index = end + 1
    return "".join(out)
