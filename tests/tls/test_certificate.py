"""The certificate mailsim makes: a local CA and a server certificate with the server's
names, a sensible lifetime, reused while it fits and reissued when the names change."""

from __future__ import annotations

import datetime
import ipaddress
import os
import stat

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mailsim.transport.tls import SERVER_LIFETIME, ensure_certificate, fingerprint_of, load_certificate, server_names


def _cert(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_names_lifetime_and_issuer(material):
    cert = _cert(material.cert_file)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "mailsim.test", "ejemplo.test"}
    assert set(san.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert datetime.timedelta(days=390) < life <= SERVER_LIFETIME + datetime.timedelta(minutes=5)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca = _cert(material.ca_file)
    assert cert.issuer == ca.subject and ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert material.fingerprint == fingerprint_of(cert.public_bytes(Encoding.DER))
    assert "CN=mailsim.test" in material.subject


def test_keys_are_private(material):
    for key in (material.key_file, material.ca_file.with_name("ca-key.pem")):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_reused_while_it_fits_and_reissued_for_new_names(tmp_path):
    first = ensure_certificate(server_names(["mailsim.test"]), tmp_path)
    again = ensure_certificate(server_names(["mailsim.test"]), tmp_path)
    assert again.fingerprint == first.fingerprint
    wider = ensure_certificate(server_names(["mailsim.test", "otra.test"], host="192.0.2.7"), tmp_path)
    assert wider.fingerprint != first.fingerprint
    assert "otra.test" in wider.names and "192.0.2.7" in wider.names
    assert _cert(wider.ca_file) == _cert(first.ca_file)  # the CA a student trusted stays


def test_own_certificate(material):
    own = load_certificate(material.cert_file, material.key_file)
    assert own.ca_file is None and own.fingerprint == material.fingerprint


def test_a_new_ca_gets_a_new_server_certificate(tmp_path):
    first = ensure_certificate(server_names(["mailsim.test"]), tmp_path)
    (tmp_path / "ca.pem").unlink()  # lost, or expired: a CA with the same name and a new key
    again = ensure_certificate(server_names(["mailsim.test"]), tmp_path)
    assert again.fingerprint != first.fingerprint
    _cert(again.cert_file).verify_directly_issued_by(_cert(again.ca_file))
