"""Files only their owner may read: recordings, lab reports, exports.

They can hold what students typed and the mail they exchanged, on a machine a whole
class may share: created 0600, in folders created 0700, whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(path: Path) -> None:
    """Create `path` and missing parents 0700 (existing folders are left alone)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask


def open_private(path: str | Path, mode: str = "w") -> IO[str]:
    """Open a text file for writing ("w" or "a"), created or made 0600."""
    path = Path(path)
    make_private_dirs(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private_text(path: str | Path, text: str) -> None:
    with open_private(path) as stream:
        stream.write(text)
