"""Save the selected part of a message to a file, as a mail client saves an attachment.

A leaf is saved decoded (base64 and quoted-printable undone; text in UTF-8), under its
own file name when it has one (only the name: a `filename="../../x"` cannot write
elsewhere), else `part-<section>` with the extension of its type. A container or an
attached message is saved as the exact octets of that entity (`.eml`), header
included. An existing file is never overwritten: ` (2)`, ` (3)`... is added.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath, PureWindowsPath

from mailsim.mime import MimeNode


def part_bytes(node: MimeNode) -> bytes:
    payload = node.payload
    if payload is None:  # multipart or message/rfc822: the entity itself
        return node.source[node.header_start:node.end]
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def file_name(node: MimeNode) -> str:
    if node.filename:
        name = PureWindowsPath(PurePosixPath(node.filename).name).name.strip().lstrip(".")
        if name:
            return name
    section = node.label or "message"
    if node.payload is None:
        return f"part-{section}.eml"
    extension = ".txt" if node.content_type == "text/plain" else mimetypes.guess_extension(node.content_type) or ".bin"
    return f"part-{section}{extension}"


def save_part(node: MimeNode, folder: Path) -> Path:
    """Write the part into `folder` under a name not taken yet; returns the path."""
    name = Path(file_name(node))
    path = folder / name
    number = 2
    while path.exists():
        path = folder / f"{name.stem} ({number}){name.suffix}"
        number += 1
    path.write_bytes(part_bytes(node))
    return path
