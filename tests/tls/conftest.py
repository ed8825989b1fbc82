"""TLS fixtures: one local CA and server certificate per test run (made in a temporary
directory, never the user's), and the servers with STARTTLS and implicit-TLS ports."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
from running_servers import RunningServers, start_servers

from mailsim.events import Protocol
from mailsim.protocol.base import SessionConfig
from mailsim.store.store import MailStore
from mailsim.transport.tls import TlsMaterial, client_context, ensure_certificate, server_names


@pytest.fixture(scope="session")
def material(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return ensure_certificate(server_names(["mailsim.test", "ejemplo.test"]), tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusting(material: TlsMaterial) -> ssl.SSLContext:
    """A client context that trusts mailsim's local CA and checks the name."""
    return client_context(material.ca_file)


def _tls_servers(store: MailStore, material: TlsMaterial, *, require: bool) -> Iterator[RunningServers]:
    config = SessionConfig(hostname=store.domain, auth_failure_delay=0.05, require_tls_for_auth=require)
    yield from start_servers(
        store, config=config, tls=material, implicit_tls_ports={p: 0 for p in Protocol}, tls_handshake_timeout=5.0
    )


@pytest.fixture
def tls_servers(store: MailStore, material: TlsMaterial) -> Iterator[RunningServers]:
    yield from _tls_servers(store, material, require=False)


@pytest.fixture
def strict_servers(store: MailStore, material: TlsMaterial) -> Iterator[RunningServers]:
    """Servers that refuse passwords until TLS (--require-tls-for-auth)."""
    yield from _tls_servers(store, material, require=True)


def implicit_port(servers: RunningServers, protocol: Protocol) -> int:
    return servers.servers.implicit_addresses[protocol][1]
