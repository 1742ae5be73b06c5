"""A small local PKI for the MQTT broker: one CA, a server certificate, one client certificate
per identity (a VEN's venId, a gateway, a service), revocation through a CRL.

Everything cryptographic is the `cryptography` library's (ECDSA P-256, SHA-256, X.509); this
module only decides names, lifetimes and where the files go. Layout of a PKI directory:

    ca.key  ca.crt  crl.pem          the authority and its revocation list
    server.key  server.crt           the broker's certificate (SAN: its host names and IPs)
    clients/<identity>.key / .crt    one per identity; the subject CN is the identity, which
                                     Mosquitto takes as the username (`use_identity_as_username`)
    revoked.json                     serial numbers revoked, with the identity and the time

Keys are written 0600. Issued certificates name their role (`ven`, `gateway`, `service`) in
the subject's OU, for the ACLs. Issue 17 wires this into Mosquitto (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROLES = ("ven", "gateway", "service")
CA_DAYS, SERVER_DAYS, CLIENT_DAYS, CRL_DAYS = 3650, 825, 825, 30


class PkiError(RuntimeError):
    """A request the PKI refuses (unknown role, no CA yet, unknown identity)."""


@dataclass(frozen=True)
class Issued:
    """Where an issued certificate and its key were written."""

    identity: str
    cert: Path
    key: Path
    serial: int


class Pki:
    """One PKI directory (created on `init`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # ---- the authority ------------------------------------------------------------------

    def init(self, name: str = "dr-platform local CA", days: int = CA_DAYS) -> Path:
        """Create the CA (once: an existing one is kept) and an empty CRL; the CA's path."""
        if (self.root / "ca.crt").exists():
            return self.root / "ca.crt"
        self.root.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_key(self.root / "ca.key", key)
        (self.root / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._write_revoked({})
        self.crl()
        return self.root / "ca.crt"

    def crl(self, days: int = CRL_DAYS) -> Path:
        """(Re)write the CRL from revoked.json; Mosquitto reads it at start (`crlfile`)."""
        ca_key, ca_cert = self._ca()
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_cert.subject)
            .last_update(now)
            .next_update(now + dt.timedelta(days=days))
        )
        for serial, entry in sorted(self._revoked().items()):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(dt.datetime.fromisoformat(entry["at"]))
                .build()
            )
        crl = builder.sign(ca_key, hashes.SHA256())
        path = self.root / "crl.pem"
        path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        return path

    # ---- issuing ------------------------------------------------------------------------

    def server(self, hosts: list[str], days: int = SERVER_DAYS) -> Issued:
        """The broker's certificate, valid for each of `hosts` (names or IP addresses)."""
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(
            "server",
            hosts[0],
            None,
            ExtendedKeyUsageOID.SERVER_AUTH,
            days,
            self.root,
            x509.SubjectAlternativeName(names),
        )

    def client(self, identity: str, role: str = "ven", days: int = CLIENT_DAYS) -> Issued:
        """A client certificate whose CN is `identity` (rotating: a new key, the old one revoked)."""
        if role not in ROLES:
            raise PkiError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        previous = self.root / "clients" / f"{identity}.crt"
        if previous.exists():
            self.revoke(identity)
        return self._issue(
            identity, identity, role, ExtendedKeyUsageOID.CLIENT_AUTH, days, self.root / "clients", None
        )

    def revoke(self, identity: str) -> int:
        """Revoke the identity's current certificate and rewrite the CRL; its serial number."""
        path = self.root / "clients" / f"{identity}.crt"
        if not path.exists():
            raise PkiError(f"no certificate issued to {identity!r}")
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        revoked = self._revoked()
        revoked[str(cert.serial_number)] = {"identity": identity, "at": _now().isoformat()}
        self._write_revoked(revoked)
        self.crl()
        return cert.serial_number

    def revoked(self) -> dict[str, dict[str, str]]:
        """Serial number -> {identity, at} of every revoked certificate."""
        return self._revoked()

    # ---- files --------------------------------------------------------------------------

    def _issue(
        self,
        file_name: str,
        common_name: str,
        role: str | None,
        usage: x509.ObjectIdentifier,
        days: int,
        folder: Path,
        san: x509.SubjectAlternativeName | None,
    ) -> Issued:
        ca_key, ca_cert = self._ca()
        key = ec.generate_private_key(ec.SECP256R1())
        subject = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if role is not None:
            subject.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role))
        now, serial = _now(), x509.random_serial_number()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        folder.mkdir(parents=True, exist_ok=True)
        key_path, cert_path = folder / f"{file_name}.key", folder / f"{file_name}.crt"
        _write_key(key_path, key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return Issued(common_name, cert_path, key_path, serial)

    def _ca(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if not (self.root / "ca.key").exists():
            raise PkiError(f"no CA in {self.root}: run `python -m dr_infra pki init` first")
        key = serialization.load_pem_private_key((self.root / "ca.key").read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key, x509.load_pem_x509_certificate((self.root / "ca.crt").read_bytes())

    def _revoked(self) -> dict[str, dict[str, str]]:
        path = self.root / "revoked.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _write_revoked(self, revoked: dict[str, dict[str, str]]) -> None:
        (self.root / "revoked.json").write_text(json.dumps(revoked, indent=1, sort_keys=True) + "\n")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """The private key, PEM, readable by its owner only (created 0600, never wider)."""
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def add_parser(sub: Any) -> None:
    """The `pki` subcommand of dr_infra.cli."""
    parser = sub.add_parser("pki", help="the local PKI for the MQTT broker: CA, server, clients, CRL")
    parser.add_argument("--dir", default=".pki", help="the PKI directory (default: .pki)")
    actions = parser.add_subparsers(dest="pki_command", required=True)
    actions.add_parser("init", help="create the CA and an empty CRL (an existing CA is kept)")
    server = actions.add_parser("server", help="issue the broker's certificate")
    server.add_argument("hosts", nargs="+", help="host names and IP addresses it answers on")
    client = actions.add_parser("client", help="issue (or rotate) an identity's client certificate")
    client.add_argument("identity", help="the venId, gateway or service name (the MQTT username)")
    client.add_argument("--role", choices=ROLES, default="ven")
    revoke = actions.add_parser("revoke", help="revoke an identity's certificate, rewrite the CRL")
    revoke.add_argument("identity")
    actions.add_parser("crl", help="rewrite the CRL (before it expires)")


def main(args: Any) -> int:
    """Run one `pki` action; prints what it wrote."""
    pki = Pki(Path(args.dir))
    try:
        if args.pki_command == "init":
            print(f"dr-infra pki: CA {pki.init()}")
        elif args.pki_command == "server":
            issued = pki.server(args.hosts)
            print(f"dr-infra pki: server {issued.cert} (key {issued.key})")
        elif args.pki_command == "client":
            issued = pki.client(args.identity, args.role)
            print(f"dr-infra pki: {args.role} {issued.identity}: {issued.cert} (key {issued.key})")
        elif args.pki_command == "revoke":
            print(
                f"dr-infra pki: revoked {args.identity} (serial {pki.revoke(args.identity)}); CRL {pki.crl()}"
            )
        else:
            print(f"dr-infra pki: CRL {pki.crl()}")
    except PkiError as exc:
        print(f"dr-infra pki: error: {exc}", file=sys.stderr)
        return 2
    return 0
