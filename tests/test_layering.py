"""The arrows of DESIGN.md point one way; importing the core loads no UI and no asyncio."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mailsim"

CORE = ["mailsim.events", "mailsim.clock", "mailsim.store", "mailsim.store.world", "mailsim.store.maildir",
        "mailsim.protocol", "mailsim.protocol.registry", "mailsim.protocol.explain"]


def loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys, json, importlib\n"
        f"for name in {modules!r}:\n"
        "    try:\n        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        if exc.name != name: raise\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return set(json.loads(out.stdout))


def test_core_imports_neither_textual_nor_asyncio() -> None:
    modules = CORE + ["mailsim.mime"]
    loaded = loaded_after_import(modules)
    assert "mailsim.protocol.registry" in loaded
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
    assert "asyncio" not in loaded


# Which top-level parts of mailsim each part may import (DESIGN.md: ui -> lesson,
# transcript, transport -> protocol -> mime, store).
ALLOWED = {
    "store": {"store", "clock", "resources"},
    "mime": {"mime"},
    "protocol": {"protocol", "store", "mime", "events", "clock", "resources", "plurals"},
    "transport": {"transport", "protocol", "store", "events", "transcript", "clock"},
    "transcript": {"transcript", "protocol", "store", "events", "clock", "resources", "private"},
    "testbench": {"testbench", "lesson", "transport", "transcript", "protocol", "mime", "store", "events", "clock", "resources", "private", "plurals"},
}


def _mailsim_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "mailsim" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_parts_only_import_downwards(part: str) -> None:
    folder = PACKAGE / part
    if not folder.is_dir():
        pytest.skip(f"mailsim/{part} does not exist yet")
    offenders = {}
    for path in folder.rglob("*.py"):
        bad = _mailsim_imports(path) - ALLOWED[part]
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offenders == {}


def test_only_ui_imports_textual() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "ui" in path.relative_to(PACKAGE).parts:
            continue
        source = path.read_text(encoding="utf-8")
        if "import textual" in source or "from textual" in source:
            offenders.append(str(path))
    assert offenders == []
