"""Real clients with their usual settings over real sockets, for each protocol in both
forms (STARTTLS/STLS on the plain port, implicit TLS on its own port): curl, swaks,
openssl s_client and fetchmail. Each trusts mailsim's local CA and checks the name,
as a student's client would after importing `ca.pem`. Skipped when a client is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mailsim.events import Protocol, TlsStarted
from .conftest import implicit_port

pytestmark = pytest.mark.network


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (.ci/run installs it from Debian)")


def _tls_sessions(servers) -> list[TlsStarted]:
    return servers.call(lambda: [e for e in servers.events if isinstance(e, TlsStarted)])


def curl(url: str, material, *options: str, user: str = "alice:wonderland") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-q", "--silent", "--show-error", "--noproxy", "*", "--max-time", "10",
         "--cacert", str(material.ca_file), "-u", user, *options, url],
        capture_output=True, timeout=30,
    )


@pytest.mark.parametrize("scheme", ["pop3", "pop3s"])
def test_curl_pop3(tls_servers, material, scheme):
    _need("curl")
    port = tls_servers.ports[Protocol.POP3] if scheme == "pop3" else implicit_port(tls_servers, Protocol.POP3)
    first = tls_servers.call(lambda: tls_servers.store.mailbox("alice", "INBOX").messages[0].raw)
    result = curl(f"{scheme}://localhost:{port}/1", material, *(["--ssl-reqd"] if scheme == "pop3" else []))
    assert result.returncode == 0, result.stderr
    assert result.stdout == first
    assert [e.implicit for e in _tls_sessions(tls_servers)] == [scheme == "pop3s"]


@pytest.mark.parametrize("scheme", ["imap", "imaps"])
def test_curl_imap(tls_servers, material, scheme):
    _need("curl")
    port = tls_servers.ports[Protocol.IMAP] if scheme == "imap" else implicit_port(tls_servers, Protocol.IMAP)
    result = curl(f"{scheme}://localhost:{port}/INBOX;UID=1", material, *(["--ssl-reqd"] if scheme == "imap" else []))
    assert result.returncode == 0, result.stderr
    first = tls_servers.call(lambda: tls_servers.store.mailbox("alice", "INBOX").messages[0].raw)
    assert result.stdout == first
    assert len(_tls_sessions(tls_servers)) == 1


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
def test_curl_smtp(tls_servers, material, tmp_path, scheme):
    _need("curl")
    port = tls_servers.smtp if scheme == "smtp" else implicit_port(tls_servers, Protocol.SMTP)
    message = tmp_path / "m.eml"
    message.write_bytes(b"Subject: curl over TLS\r\n\r\nencrypted on the way\r\n")
    result = curl(
        f"{scheme}://localhost:{port}", material, *(["--ssl-reqd"] if scheme == "smtp" else []),
        "--mail-from", "alice@mailsim.test", "--mail-rcpt", "bob@mailsim.test", "--upload-file", str(message),
    )
    assert result.returncode == 0, result.stderr
    raw = tls_servers.call(lambda: tls_servers.store.mailbox("bob", "INBOX").messages[-1].raw)
    assert raw.endswith(b"encrypted on the way\r\n")
    assert b"with ESMTPA" in raw  # curl logged in, over TLS


def test_curl_ssl_reqd_refuses_a_server_without_tls(servers):
    """The other side: a client that demands TLS stops when none is offered."""
    _need("curl")
    result = subprocess.run(
        ["curl", "-q", "--silent", "--show-error", "--max-time", "10", "--ssl-reqd", "-u", "alice:wonderland",
         f"pop3://127.0.0.1:{servers.ports[Protocol.POP3]}/1"],
        capture_output=True, timeout=30,
    )
    assert result.returncode == 64 and b"STLS not supported" in result.stderr  # CURLE_USE_SSL_FAILED


@pytest.mark.parametrize("form", ["-tls", "--tls-on-connect"])
def test_swaks(tls_servers, material, form):
    _need("swaks")
    port = tls_servers.smtp if form == "-tls" else implicit_port(tls_servers, Protocol.SMTP)
    result = subprocess.run(
        ["swaks", "--server", f"localhost:{port}", form, "--tls-verify", "--tls-ca-path", str(material.ca_file),
         "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wonderland",
         "--to", "bob@mailsim.test", "--from", "alice@mailsim.test", "--header", "Subject: swaks TLS"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TLS started with cipher" in result.stdout
    assert "<~  235 2.7.0 Authentication successful" in result.stdout  # "~": said over TLS
    assert "<~  250 2.0.0 Ok: queued as" in result.stdout


@pytest.mark.parametrize(
    ("protocol", "starttls", "command", "answer"),
    [
        (Protocol.SMTP, "smtp", b"EHLO s-client.example\r\nQUIT\r\n", b"250-mailsim.test greets s-client.example"),
        (Protocol.POP3, "pop3", b"CAPA\r\nQUIT\r\n", b"+OK Capability list follows"),
        (Protocol.IMAP, "imap", b"a1 CAPABILITY\r\na2 LOGOUT\r\n", b"a1 OK CAPABILITY completed"),
    ],
)
@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit"])
def test_openssl_s_client(tls_servers, material, protocol, starttls, command, answer, implicit):
    _need("openssl")
    port = implicit_port(tls_servers, protocol) if implicit else tls_servers.ports[protocol]
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
         "-verify_hostname", "localhost", "-verify_return_error", "-CAfile", str(material.ca_file),
         "-ign_eof", *([] if implicit else ["-starttls", starttls])],
        input=command, capture_output=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert b"Verify return code: 0 (ok)" in result.stdout
    assert answer in result.stdout
    fingerprint = material.fingerprint.replace(":", "")
    printed = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(material.cert_file)],
                             capture_output=True, text=True).stdout
    assert fingerprint in printed.replace(":", "")  # what `mailsim serve` prints is what openssl shows


@pytest.mark.parametrize("protocol", [Protocol.POP3, Protocol.IMAP])
def test_fetchmail_with_its_defaults(tls_servers, material, tmp_path: Path, protocol):
    """fetchmail's defaults: it sees STLS/STARTTLS, upgrades, and checks the certificate
    (sslcertck); we only tell it which CA to trust, as the README says."""
    _need("fetchmail")
    out = tmp_path / "delivered"
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f"poll localhost protocol {protocol.value} port {tls_servers.ports[protocol]}\n"
        f"  user bob password builder is root here\n"
        f"  sslcertfile {material.ca_file}\n"
        f"  keep\n"
        f'  mda "/bin/sh -c \'cat >> {out}\'"\n'
    )
    rc.chmod(0o600)
    env = {**os.environ, "HOME": str(tmp_path), "FETCHMAILHOME": str(tmp_path)}
    messages = tls_servers.call(lambda: list(tls_servers.store.mailbox("bob", "INBOX").messages))
    # fetchmail takes every message over POP3, and the unseen ones over IMAP.
    wanted = [m for m in messages if protocol is Protocol.POP3 or "\\Seen" not in m.flags]
    result = subprocess.run(
        ["fetchmail", "-f", str(rc), "--nosyslog", "-v", "--idfile", str(tmp_path / "ids")],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    log = result.stdout + result.stderr
    assert "upgrade to TLS succeeded" in log
    delivered = out.read_bytes()
    assert wanted and delivered.count(b"(fetchmail-") == len(wanted)
    assert [e.implicit for e in _tls_sessions(tls_servers)] == [False]
