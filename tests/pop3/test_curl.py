"""POP3 against a second, independent client: curl's pop3:// (libcurl's POP3 code picks
a SASL mechanism from CAPA, or APOP, and sends QUIT when it is done)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mailsim.events import ClientLine

from .conftest import Pop3Servers

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]


def curl(servers: Pop3Servers, path: str, *options: str, user: str = "alice:wonderland") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-q", "--silent", "--show-error", "--noproxy", "*", "--max-time", "10",
         "-u", user, *options, f"pop3://127.0.0.1:{servers.pop3}/{path}"],
        capture_output=True,
        timeout=20,
    )


def client_verbs(servers: Pop3Servers) -> list[str]:
    return [e.data.split(b" ")[0].strip().decode() for e in servers.events_of(ClientLine)]


def test_curl_retrieves_alices_first_message(pop3_servers: Pop3Servers) -> None:
    first = pop3_servers.call(lambda: pop3_servers.store.mailbox("alice", "INBOX").messages[0].raw)
    result = curl(pop3_servers, "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == first
    assert "QUIT" in client_verbs(pop3_servers)


def test_curl_lists_the_maildrop(pop3_servers: Pop3Servers) -> None:
    sizes = pop3_servers.call(lambda: [m.size for m in pop3_servers.store.mailbox("alice", "INBOX").messages])
    result = curl(pop3_servers, "")
    assert result.returncode == 0, result.stderr
    expected = "".join(f"{n} {size}\r\n" for n, size in enumerate(sizes, start=1)).encode()
    assert result.stdout == expected


def test_curl_deletes_a_message(pop3_servers: Pop3Servers) -> None:
    before = pop3_servers.inbox_uids("bob")
    result = curl(pop3_servers, "2", "--request", "DELE", "--head", user="bob:builder")
    assert result.returncode == 0, result.stderr
    assert pop3_servers.inbox_uids("bob") == [uid for uid in before if uid != 2]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5", "+APOP"])
def test_curl_logs_in_with_each_mechanism(pop3_servers: Pop3Servers, mechanism: str) -> None:
    first = pop3_servers.call(lambda: pop3_servers.store.mailbox("bob", "INBOX").messages[0].raw)
    result = curl(pop3_servers, "1", "--login-options", f"AUTH={mechanism}", user="bob:builder")
    assert result.returncode == 0, result.stderr
    assert result.stdout == first
    expected = "APOP" if mechanism == "+APOP" else "AUTH"
    assert expected in client_verbs(pop3_servers)


def test_curl_reports_a_wrong_password_as_login_denied(pop3_servers: Pop3Servers) -> None:
    result = curl(pop3_servers, "1", user="alice:wrong")
    assert result.returncode == 67  # CURLE_LOGIN_DENIED
