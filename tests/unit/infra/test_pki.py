"""The local PKI: a chain that verifies, identities in the CN, rotation and revocation in the CRL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dr_infra.cli import main
from dr_infra.pki import Pki, PkiError

pytestmark = pytest.mark.unit


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def signed_by_ca(cert: x509.Certificate, pki: Pki) -> bool:
    ca = load(pki.root / "ca.crt")
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError):
        return False
    return True


def test_server_and_client_certificates_chain_to_the_ca(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    pki.init()
    server = pki.server(["mosquitto", "127.0.0.1"])
    ven = pki.client("ven-001")
    for issued in (server, ven):
        assert signed_by_ca(load(issued.cert), pki)
        assert stat.S_IMODE(issued.key.stat().st_mode) == 0o600
    names = load(server.cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["mosquitto"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    cert = load(ven.cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "ven-001"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "ven"
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600


def test_a_second_init_keeps_the_ca(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    first = pki.init().read_bytes()
    assert pki.init().read_bytes() == first


def test_rotating_an_identity_revokes_its_old_certificate(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    pki.init()
    old = pki.client("ven-002")
    new = pki.client("ven-002")
    crl = x509.load_pem_x509_crl((tmp_path / "crl.pem").read_bytes())
    assert crl.is_signature_valid(load(tmp_path / "ca.crt").public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(old.serial) is not None
    assert crl.get_revoked_certificate_by_serial_number(new.serial) is None
    pki.revoke("ven-002")
    crl = x509.load_pem_x509_crl((tmp_path / "crl.pem").read_bytes())
    assert {r.serial_number for r in crl} == {old.serial, new.serial}


def test_refusals_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PkiError, match="pki init"):
        Pki(tmp_path).client("ven-003")
    Pki(tmp_path).init()
    with pytest.raises(PkiError, match="unknown role"):
        Pki(tmp_path).client("ven-003", role="admin")
    assert main(["pki", "--dir", str(tmp_path), "revoke", "nobody"]) == 2
    assert "no certificate issued to 'nobody'" in capsys.readouterr().err


def test_the_cli_issues_what_the_broker_needs(tmp_path: Path) -> None:
    folder = str(tmp_path / "pki")
    assert main(["pki", "--dir", folder, "init"]) == 0
    assert main(["pki", "--dir", folder, "server", "localhost", "127.0.0.1"]) == 0
    assert main(["pki", "--dir", folder, "client", "ingest-bridge", "--role", "service"]) == 0
    written = sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())
    assert written == [
        "ca.crt",
        "ca.key",
        "clients/ingest-bridge.crt",
        "clients/ingest-bridge.key",
        "crl.pem",
        "revoked.json",
        "server.crt",
        "server.key",
    ]
