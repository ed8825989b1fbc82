"""The core packages type-check (mypy, configured in pyproject.toml): a `type: ignore`
that is no longer needed fails too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_core_packages_type_check(monkeypatch: pytest.MonkeyPatch) -> None:
    api = pytest.importorskip("mypy.api", reason="mypy is not installed (pip install -e '.[test]')")
    monkeypatch.chdir(ROOT)  # the configuration names the packages from the project's root
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", os.devnull])
    assert status == 0, stdout + stderr
