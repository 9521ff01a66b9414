"""The emulator's certificate: trusted through its CA only, for every name the spec lists; the
files are made once per root and reused."""
from __future__ import annotations

import socket
import ssl

import pytest
from cryptography import x509

from emulators.azure import tls


def handshake(port: int, server_name: str, context: ssl.SSLContext) -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as secure:
            return secure.getpeercert()


@pytest.mark.integration
@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "eastus.api.azureml.localhost",
                                  "diabetes-endpoint.eastus.inference.localhost"])
def test_the_https_port_verifies_with_the_emulators_ca(azure_emulator, name):
    context = ssl.create_default_context(cafile=str(azure_emulator.ca_file))

    assert handshake(azure_emulator.ports.https, name, context)["subject"]


@pytest.mark.integration
def test_azurite_serves_the_same_certificate(azure_emulator):
    context = ssl.create_default_context(cafile=str(azure_emulator.ca_file))

    assert handshake(azure_emulator.ports.blob, "devstoreaccount1.blob.localhost", context)


@pytest.mark.integration
def test_nothing_else_trusts_it(azure_emulator, tmp_path):
    other_ca = tls.ensure(tmp_path / "other") / "ca.pem"
    for context in (ssl.create_default_context(), ssl.create_default_context(cafile=str(other_ca))):
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(azure_emulator.ports.https, "localhost", context)


@pytest.mark.integration
def test_a_name_outside_the_sans_does_not_verify(azure_emulator):
    context = ssl.create_default_context(cafile=str(azure_emulator.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(azure_emulator.ports.https, "management.azure.com", context)


def test_the_files_are_reused_while_valid(tmp_path):
    folder = tls.ensure(tmp_path)
    before = {name: (folder / name).read_bytes() for name in ("ca.pem", "server.pem", "server-key.pem")}

    tls.ensure(tmp_path)

    assert {name: (folder / name).read_bytes() for name in before} == before
    assert oct((folder / "server-key.pem").stat().st_mode & 0o777) == "0o600"


def test_a_server_certificate_without_a_new_location_is_remade_by_the_same_ca(tmp_path):
    folder = tls.ensure(tmp_path, "eastus")
    ca = (folder / "ca.pem").read_bytes()

    tls.ensure(tmp_path, "westeurope")

    cert = x509.load_pem_x509_certificate((folder / "server.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "*.westeurope.inference.localhost" in names
    assert (folder / "ca.pem").read_bytes() == ca
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))
