"""mutt, unmodified, against IMAP with STARTTLS: it verifies the certificate against
mailsim's CA and logs in with `AUTHENTICATE CRAM-MD5 ` (an empty SASL-IR initial
response, which the server used to refuse with BAD). mutt needs a terminal: it runs in
a detached tmux session. Skipped when mutt or tmux is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from mailsim.events import ClientLine, Protocol, Reply, TlsStarted

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("mutt") is None or shutil.which("tmux") is None, reason="mutt or tmux is not installed"),
]


def test_mutt_opens_the_inbox_over_starttls_with_cram_md5(tls_servers, material, tmp_path: Path):
    rc = tmp_path / "muttrc"
    rc.write_text(
        "set imap_user=alice\nset imap_pass=wonderland\n"
        f"set folder=imap://localhost:{tls_servers.ports[Protocol.IMAP]}/\nset spoolfile=+INBOX\n"
        "set ssl_starttls=yes\nset ssl_force_tls=yes\n"
        f"set certificate_file={material.ca_file}\n"
    )
    name = f"mailsim-mutt-{os.getpid()}"
    env = {**os.environ, "HOME": str(tmp_path), "TERM": "xterm"}
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", f"mutt -n -F {rc}"],
                   check=True, env=env, timeout=10)
    try:
        deadline = time.monotonic() + 15
        selected = []
        while time.monotonic() < deadline and not selected:
            time.sleep(0.1)
            selected = tls_servers.call(
                lambda: [e for e in tls_servers.events if isinstance(e, Reply) and e.key == "select-ok"]
            )
        assert selected, "mutt did not open the INBOX"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], timeout=10)
    events = tls_servers.call(lambda: list(tls_servers.events))
    sent = [e.data for e in events if isinstance(e, ClientLine)]
    assert any(isinstance(e, TlsStarted) for e in events)
    # mutt's default: SASL-IR with an empty initial response, i.e. a space and nothing.
    assert any(re.fullmatch(rb"a\d+ AUTHENTICATE CRAM-MD5 ?\r\n", line) for line in sent)
    logged_in = [e for e in events if isinstance(e, Reply) and e.key == "login-ok"]
    assert logged_in and logged_in[0].command == "AUTHENTICATE"
