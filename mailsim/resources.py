"""Where the shipped data lives: `assets/` and `lessons/`.

In a source checkout (or an editable install) they sit beside the package; in a
wheel they are copied into `mailsim/_data/`. Both layouts are looked up here so no
other module needs to know.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"mailsim data folder {name!r} not found beside {_PACKAGE}")


def assets_dir() -> Path:
    return _data_dir("assets")


def lessons_dir() -> Path:
    return _data_dir("lessons")


def package_data(*parts: str) -> Path:
    """A data file that lives inside the package itself (explanations, UI strings)."""
    return _PACKAGE.joinpath(*parts)
