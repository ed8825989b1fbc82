"""A non-editable install (`pip install .` into a fresh venv) finds assets and lessons."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_install_finds_data(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", "--disable-pip-version-check", str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = (
        "import mailsim, mailsim.resources as r, mailsim.store.world as w\n"
        "print(mailsim.__file__)\n"
        "print(r.assets_dir())\n"
        "print(r.lessons_dir())\n"
        "print(len(w.build_store().mailbox('alice','INBOX').messages))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    module, assets, lessons, count = result.stdout.splitlines()
    assert module.startswith(str(env_dir)), module
    assert assets.startswith(str(env_dir)) and lessons.startswith(str(env_dir))
    assert int(count) > 0
    cli = subprocess.run([str(env_dir / "bin" / "mailsim"), "--version"], capture_output=True, text=True, env=env)
    assert cli.stdout.startswith("mailsim ")
    # The testbench's data (levels, verdict texts) and the shipped assignments are installed too.
    levels = subprocess.run([str(env_dir / "bin" / "mailsim"), "check", "levels"], capture_output=True, text=True, env=env)
    assert levels.returncode == 0 and "rfc821" in levels.stdout, levels.stderr
    probe = "import mailsim.resources as r; print(sorted(p.name for p in (r.assets_dir() / 'assignments').glob('*.toml')))"
    shipped = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert "smtp-client-informe.toml" in shipped.stdout, shipped.stderr
