"""The emulator's TLS: a CA generated once per root and a server certificate it signs.

root/tls/ca.pem is what the stack's processes trust (REQUESTS_CA_BUNDLE / SSL_CERT_FILE);
server.pem + server-key.pem serve the emulator's HTTPS port and Azurite's. Existing files are
reused while they are valid, cover the names asked for and were signed by the CA beside them.
"""
from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "Azure Emulator Loopback CA"
VALIDITY = datetime.timedelta(days=825)
RENEW_BEFORE = datetime.timedelta(days=7)


def server_names(location: str) -> list[str]:
    """The DNS names the emulator answers on (IP addresses are added by `ensure`)."""
    return ["localhost", "*.localhost", "*.blob.localhost", "*.queue.localhost", "*.inference.localhost",
            f"*.{location}.inference.localhost", "api.azureml.localhost", "*.api.azureml.localhost"]


def tls_dir(root: Path) -> Path:
    return Path(root) / "tls"


def ensure(root: Path, location: str = "eastus") -> Path:
    """Create (or keep) root/tls/{ca.pem, ca-key.pem, server.pem, server-key.pem}; the folder."""
    folder = tls_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    names = server_names(location)
    ca_pem, ca_key_pem = folder / "ca.pem", folder / "ca-key.pem"
    if not (_valid(ca_pem) and ca_key_pem.exists()):
        key, cert = _new_ca()
        _write(ca_key_pem, _key_bytes(key), private=True)
        _write(ca_pem, cert.public_bytes(serialization.Encoding.PEM))
        (folder / "server.pem").unlink(missing_ok=True)
    ca_cert = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_pem.read_bytes(), None)
    server_pem, server_key_pem = folder / "server.pem", folder / "server-key.pem"
    if not (_valid(server_pem) and server_key_pem.exists() and _covers(server_pem, names, ca_cert)):
        key, cert = _new_server(ca_key, ca_cert, names)
        _write(server_key_pem, _key_bytes(key), private=True)
        _write(server_pem, cert.public_bytes(serialization.Encoding.PEM))
    return folder


def server_context(root: Path, location: str = "eastus") -> ssl.SSLContext:
    """A server-side SSLContext with the emulator's certificate (generated when missing)."""
    folder = ensure(root, location)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(folder / "server.pem", folder / "server-key.pem")
    return context


def _new_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _new_server(ca_key, ca_cert: x509.Certificate, names: list[str]):
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    alt_names = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _valid(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        return False
    now = _now()
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc - RENEW_BEFORE > now


def _covers(path: Path, names: list[str], ca_cert: x509.Certificate) -> bool:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    try:
        cert.verify_directly_issued_by(ca_cert)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except Exception:  # noqa: BLE001 - any doubt about the old certificate: make a new one
        return False
    return set(names) <= set(sans.get_values_for_type(x509.DNSName))


def _key_bytes(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    if private:
        path.chmod(0o600)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)
