"""A real Dovecot (IMAP and POP3) for the tests: its own minimal configuration in a
temporary directory, plain text on 127.0.0.1, free ports, one passwd-file user.

Installed by `.ci/run` from the Debian packages dovecot-imapd and dovecot-pop3d; a test
that needs it is skipped, with the reason, when it is not installed or will not start.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "alice", "wonderland"


@dataclass(frozen=True)
class Dovecot:
    imap: int
    pop3: int
    maildir: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(root: Path, imap: int, pop3: int) -> str:
    me = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        owner, users = "uid=nobody gid=nogroup", ""
    else:  # unprivileged: every Dovecot process runs as the test's own user
        owner = f"uid={me} gid={os.getegid()}"
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    return f"""{users}base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = {owner} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 10.0) -> bool:
    """Until the port accepts a connection (Dovecot is ready), or it gave up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def run_dovecot(root: Path) -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("Dovecot is not installed (Debian packages dovecot-imapd and dovecot-pop3d, see .ci/run)")
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True)
    (root / "mail").chmod(0o777)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::\n")
    imap, pop3 = _free_port(), _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, imap, pop3))
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if not (_wait_for(imap, process) and _wait_for(pop3, process)):
            output = process.stdout.read().decode(errors="replace") if process.poll() is not None else ""
            pytest.skip(f"Dovecot would not start here: {output.strip()[:300] or 'no answer on its ports'}")
        yield Dovecot(imap, pop3, root / "mail")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    # Dovecot's base_dir holds sockets: keep the path short (UNIX socket paths are short).
    root = Path(f"/tmp/mailsim-dovecot-{os.getpid()}-{_free_port()}")
    try:
        yield from run_dovecot(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
