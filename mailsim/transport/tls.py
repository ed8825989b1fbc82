"""TLS for the transports: the server's certificate, the SSL contexts, and what a
finished handshake tells the engine.

The certificate is issued by a tiny local certificate authority made on first use and
kept in the user data directory, so a student trusts one file (`ca.pem`) in a client
once, and the server certificate can be reissued (new domains, near expiry) without
asking again. `--tls-cert/--tls-key` use one's own instead. Clients compare the SHA-256
fingerprint that `mailsim serve` prints with the one they are shown.

Nothing here needs asyncio: the TCP transport hands these contexts to
`loop.start_tls`/`create_server`, the console drives `MemoryTls` by hand, and a client
transport (`client_context`, `wrap_client`) can reuse the same pieces.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mailsim.protocol.base import TlsParams

CA_LIFETIME = datetime.timedelta(days=5 * 365)
# Browsers and Apple's clients refuse server certificates valid for longer than
# 398 / 825 days; a shorter life is also what a student sees on real servers.
SERVER_LIFETIME = datetime.timedelta(days=397)
RENEW_BEFORE = datetime.timedelta(days=30)
HANDSHAKE_TIMEOUT = 30.0


class TlsSetupError(Exception):
    """The certificate or key cannot be read or made."""


@dataclass(frozen=True)
class TlsMaterial:
    """The files a server uses and what to tell the student about them."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None  # the local CA clients can trust; None with one's own certificate
    fingerprint: str      # SHA-256 of the server certificate, AA:BB:... as clients show it
    subject: str
    names: tuple[str, ...]
    not_after: datetime.datetime

    def server_context(self) -> ssl.SSLContext:
        return server_context(self.cert_file, self.key_file)


def default_directory() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("mailsim")) / "tls"


def fingerprint_of(der: bytes) -> str:
    """SHA-256 of a certificate in DER, as `openssl x509 -fingerprint -sha256` and
    Thunderbird show it: upper-case hex pairs joined by colons."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def server_names(hostnames: Iterable[str], host: str = "") -> tuple[str, ...]:
    """The names a certificate must carry: localhost and loopback, the world's domains,
    and the address the server is bound to."""
    names = ["localhost", "127.0.0.1", "::1", *hostnames]
    if host and host not in ("0.0.0.0", "::"):
        names.append(host)
    return tuple(dict.fromkeys(n.lower() for n in names if n))


def ensure_certificate(names: Iterable[str], directory: Path | None = None) -> TlsMaterial:
    """The local CA and a server certificate for `names`, made or renewed as needed."""
    from cryptography import x509

    directory = directory or default_directory()
    wanted = tuple(names)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        ca_cert, ca_key = _load_or_make_ca(directory)
        cert_file, key_file = directory / "server.pem", directory / "server-key.pem"
        current = _read_cert(cert_file) if cert_file.exists() and key_file.exists() else None
        if current is None or not _fits(current, wanted, ca_cert):
            _issue_server(ca_cert, ca_key, wanted, cert_file, key_file)
            current = _read_cert(cert_file)
    except (OSError, ValueError) as exc:
        raise TlsSetupError(f"cannot prepare the TLS certificate in {directory}: {exc}") from exc
    assert isinstance(current, x509.Certificate)
    return _material(current, cert_file, key_file, directory / "ca.pem")


def load_certificate(cert_file: str | Path, key_file: str | Path) -> TlsMaterial:
    """One's own certificate (`--tls-cert/--tls-key`), checked by loading it."""
    cert_path, key_path = Path(cert_file), Path(key_file)
    try:
        cert = _read_cert(cert_path)
        server_context(cert_path, key_path)
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise TlsSetupError(f"cannot use {cert_path} / {key_path}: {exc}") from exc
    return _material(cert, cert_path, key_path, None)


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 8996: nothing older
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


def client_context(cafile: str | Path | None = None, *, verify: bool = True) -> ssl.SSLContext:
    """A client's context: the system's trust store, plus `cafile` (mailsim's local CA);
    `verify=False` is curl's `-k`: encrypted, but the server is not authenticated."""
    context = ssl.create_default_context()  # with a cafile it would not load the system's
    if cafile:
        context.load_verify_locations(cafile=str(cafile))
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def wrap_client(context: ssl.SSLContext, server_hostname: str) -> "MemoryTls":
    """A client-side in-memory TLS endpoint (for a transport that moves the bytes)."""
    return MemoryTls(context, server_side=False, server_hostname=server_hostname)


def params_of(ssl_object: ssl.SSLObject | ssl.SSLSocket | None, material: TlsMaterial | None) -> TlsParams:
    """What the engine is told of a finished handshake."""
    version = cipher = ""
    if ssl_object is not None:
        version = ssl_object.version() or ""
        found = ssl_object.cipher()
        cipher = found[0] if found else ""
    if material is None:
        return TlsParams(version, cipher)
    return TlsParams(version, cipher, material.subject, material.fingerprint)


def peer_params(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> TlsParams:
    """What a client saw of a finished handshake: version, cipher, and the server's
    certificate (subject, SHA-256 fingerprint), whether or not it was checked."""
    from cryptography import x509

    params = params_of(ssl_object, None)
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return params
    subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    return TlsParams(params.version, params.cipher, subject, fingerprint_of(der))


class MemoryTls:
    """One end of a TLS connection over memory buffers (`ssl.MemoryBIO`): feed it the
    octets from the wire, take what to put on the wire. Used by the in-app console, so
    the octets a student's session sends after STARTTLS are really encrypted."""

    def __init__(self, context: ssl.SSLContext, *, server_side: bool, server_hostname: str | None = None) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.ssl = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side, server_hostname=server_hostname)
        self.handshaken = False

    def handshake(self) -> bool:
        """Advance the handshake; True once it is done. Raises ssl.SSLError on failure."""
        if not self.handshaken:
            try:
                self.ssl.do_handshake()
                self.handshaken = True
            except ssl.SSLWantReadError:
                pass
        return self.handshaken

    def feed(self, wire: bytes) -> None:
        self.incoming.write(wire)

    def wire_out(self) -> bytes:
        return self.outgoing.read()

    def send(self, plaintext: bytes) -> None:
        self.ssl.write(plaintext)

    def receive(self) -> bytes:
        chunks = []
        while True:
            try:
                chunk = self.ssl.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


class MemoryTlsPair:
    """Both ends of one TLS connection in memory: the student's client and the server.

    The console drives it: plaintext goes in at one end, the octets an eavesdropper
    would see come out in between (`wire` callbacks), plaintext comes out at the other.
    """

    def __init__(self, material: TlsMaterial, server_hostname: str, cafile: Path) -> None:
        self.material = material
        self.client = MemoryTls(client_context(cafile), server_side=False, server_hostname=server_hostname)
        self.server = MemoryTls(material.server_context(), server_side=True)
        self.handshake_octets = 0

    def handshake(self) -> TlsParams:
        """Run the whole handshake; raises ssl.SSLError if it fails (an untrusted name)."""
        for _ in range(10):
            client_done = self.client.handshake()
            flight = self.client.wire_out()
            self.handshake_octets += len(flight)
            self.server.feed(flight)
            server_done = self.server.handshake()
            flight = self.server.wire_out()
            self.handshake_octets += len(flight)
            self.client.feed(flight)
            if client_done and server_done:
                break
        else:  # pragma: no cover - a handshake takes two round trips at most
            raise ssl.SSLError("the handshake did not finish")
        # TLS 1.3 session tickets come after the handshake: deliver them now.
        self.client.receive()
        return params_of(self.server.ssl, self.material)

    def client_to_server(self, plaintext: bytes) -> tuple[bytes, bytes]:
        """(octets on the wire, plaintext the server reads)."""
        self.client.send(plaintext)
        wire = self.client.wire_out()
        self.server.feed(wire)
        return wire, self.server.receive()

    def server_to_client(self, plaintext: bytes) -> tuple[bytes, bytes]:
        """(octets on the wire, plaintext the client reads)."""
        self.server.send(plaintext)
        wire = self.server.wire_out()
        self.client.feed(wire)
        return wire, self.client.receive()


_CONSOLE: dict[str, object] = {}
# A fixed key and fixed dates: the in-process console's certificate is the same on
# every run, so its fingerprint (shown in the transcript) is reproducible.
_CONSOLE_SEED = hashlib.sha256(b"mailsim console certificate").digest()


def console_material(hostname: str) -> tuple[TlsMaterial, Path]:
    """The in-process console's certificate for `hostname` (Ed25519, self-signed, made
    in a temporary directory once per process) and the file a client trusts for it."""
    found = _CONSOLE.get(hostname)
    if found is None:
        import tempfile

        directory = tempfile.TemporaryDirectory(prefix="mailsim-console-tls-")
        _CONSOLE[f"dir:{hostname}"] = directory  # kept (and removed at exit) with the module
        found = _make_console_cert(hostname, Path(directory.name))
        _CONSOLE[hostname] = found
    return found  # type: ignore[return-value]


def _make_console_cert(hostname: str, directory: Path) -> tuple[TlsMaterial, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.x509.oid import NameOID

    key = Ed25519PrivateKey.from_private_bytes(_CONSOLE_SEED)
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailsim console"),
        x509.NameAttribute(NameOID.COMMON_NAME, hostname),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(_CONSOLE_SEED[:8], "big"))
        .not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
        .not_valid_after(datetime.datetime(2045, 1, 1, tzinfo=datetime.timezone.utc))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, None)
    )
    cert_file, key_file = directory / "console.pem", directory / "console-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(key_file, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return _material(cert, cert_file, key_file, cert_file), cert_file


# -- making certificates ----------------------------------------------------------------------


def _material(cert, cert_file: Path, key_file: Path, ca_file: Path | None) -> TlsMaterial:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(v) for v in san.get_values_for_type(x509.DNSName)) + tuple(
            str(v) for v in san.get_values_for_type(x509.IPAddress)
        )
    except x509.ExtensionNotFound:
        names = ()
    return TlsMaterial(
        cert_file=cert_file,
        key_file=key_file,
        ca_file=ca_file,
        fingerprint=fingerprint_of(cert.public_bytes(Encoding.DER)),
        subject=cert.subject.rfc4514_string(),
        names=names,
        not_after=cert.not_valid_after_utc,
    )


def _read_cert(path: Path):
    from cryptography import x509

    return x509.load_pem_x509_certificate(path.read_bytes())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _fits(cert, names: tuple[str, ...], ca_cert) -> bool:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    if cert.not_valid_after_utc - RENEW_BEFORE < _now():
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)  # a CA made anew has the same name, not the same key
    except (ValueError, TypeError, InvalidSignature):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {str(v).lower() for v in san.get_values_for_type(x509.DNSName)}
    have |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    return all(_canonical(n) in have for n in names)


def _canonical(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)


def _load_or_make_ca(directory: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_file, ca_key_file = directory / "ca.pem", directory / "ca-key.pem"
    if ca_file.exists() and ca_key_file.exists():
        cert = _read_cert(ca_file)
        if cert.not_valid_after_utc - SERVER_LIFETIME > _now():
            return cert, serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailsim"),
        x509.NameAttribute(NameOID.COMMON_NAME, "mailsim local CA"),
    ])
    now = _now()
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(authority=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(ca_key_file, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _issue_server(ca_cert, ca_key, names: tuple[str, ...], cert_file: Path, key_file: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    common = next((n for n in names if n != "localhost" and not _is_ip(n)), "localhost")
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailsim"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(authority=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_file, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _key_usage(*, authority: bool):
    """A CA signs certificates; a server certificate signs its handshakes (ECDSA)."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not authority, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=authority, crl_sign=authority,
        encipher_only=False, decipher_only=False,
    )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
