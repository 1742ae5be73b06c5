"""A small local PKI for the MQTT broker: one CA, a server certificate, one client certificate
per identity (a VEN's venId, a gateway, a service), revocation through a CRL.

Everything cryptographic is the `cryptography` library's (ECDSA P-256, SHA-256, X.509); this
module only decides names, lifetimes and where the files go. Layout of a PKI directory:

    ca.key  ca.crt  crl.pem          the authority and its revocation list
    server.key  server.crt           the broker's certificate (SAN: its host names and IPs)
    clients/<identity>.key / .crt    one per identity; the subject CN is the identity, which
                                     Mosquitto takes as the username (`use_identity_as_username`)
    revoked.json                     serial numbers revoked, with the identity and the time
    gateways.json                    each gateway's VENs and whether it is a legacy gateway,
                                     from which dr_infra.mqtt_acl writes the broker's ACL
    passwords                        the fallback for sites without a certificate: Mosquitto's
                                     password file (hashed by mosquitto_passwd), one per identity

Keys are written 0600. Issued certificates name their role (`ven`, `gateway`, `service`) in
the subject's OU, for the ACLs. Issue 17 wires this into Mosquitto (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .mqtt_acl import Gateway, render_acl

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

    @property
    def ca_file(self) -> Path:
        return self.root / "ca.crt"

    @property
    def clients_dir(self) -> Path:
        """Where each identity's `<identity>.crt` and `.key` are."""
        return self.root / "clients"

    @property
    def gateways_file(self) -> Path:
        """Each gateway's VENs (the bridge reads it as BRIDGE_GATEWAYS_FILE)."""
        return self.root / "gateways.json"

    def client_files(self, identity: str) -> tuple[Path, Path]:
        """The identity's certificate and key (they may not exist yet)."""
        return self.clients_dir / f"{identity}.crt", self.clients_dir / f"{identity}.key"

    # ---- the authority ------------------------------------------------------------------

    def init(self, name: str = "dr-platform local CA", days: int = CA_DAYS) -> Path:
        """Create the CA (once: an existing one is kept) and an empty CRL; the CA's path."""
        if self.ca_file.exists():
            return self.ca_file
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
        self.ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._write_revoked({})
        self.crl()
        return self.ca_file

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
        if self.client_files(identity)[0].exists():
            self.revoke(identity)
        return self._issue(
            identity, identity, role, ExtendedKeyUsageOID.CLIENT_AUTH, days, self.clients_dir, None
        )

    def ensure_client(self, identity: str, role: str = "ven") -> Issued:
        """The identity's certificate, issued only if it has none yet (no rotation)."""
        cert, key = self.client_files(identity)
        if cert.exists() and key.exists():
            serial = x509.load_pem_x509_certificate(cert.read_bytes()).serial_number
            return Issued(identity, cert, key, serial)
        return self.client(identity, role)

    def revoke(self, identity: str) -> int:
        """Revoke the identity's current certificate and rewrite the CRL; its serial number."""
        path = self.client_files(identity)[0]
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

    # ---- the password fallback ------------------------------------------------------------

    @property
    def password_file(self) -> Path:
        return self.root / "passwords"

    def password(self, identity: str) -> str:
        """A new random password for `identity` (replacing any), hashed into the password file by
        Mosquitto's own `mosquitto_passwd`; returned once, never stored in clear."""
        tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        secret = secrets.token_urlsafe(24)
        self.root.mkdir(parents=True, exist_ok=True)
        create = [] if self.password_file.exists() else ["-c"]
        done = subprocess.run(
            [tool, "-b", *create, str(self.password_file), identity, secret], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise PkiError(f"mosquitto_passwd failed: {done.stderr.strip() or done.stdout.strip()}")
        os.chmod(self.password_file, 0o600)
        return secret

    # ---- gateways -----------------------------------------------------------------------

    def set_gateway(self, name: str, vens: list[str], *, legacy: bool = False) -> Gateway:
        """Record the VENs a gateway speaks for (the broker's ACL follows on its next reload)."""
        gateways = self._gateways()
        gateways[name] = {"vens": sorted(set(vens)), "legacy": legacy}
        self._write_gateways(gateways)
        return Gateway(name, tuple(gateways[name]["vens"]), legacy)

    def drop_gateways(self, prefix: str, keep: list[str]) -> None:
        """Forget the gateways named `<prefix>-<n>` that are not in `keep` (a simulator's old links)."""
        gateways = self._gateways()
        stale = [name for name in gateways if name.startswith(f"{prefix}-") and name not in keep]
        if stale:
            for name in stale:
                del gateways[name]
            self._write_gateways(gateways)

    def gateways(self) -> list[Gateway]:
        """Every recorded gateway, by name."""
        return [
            Gateway(name, tuple(entry["vens"]), bool(entry["legacy"]))
            for name, entry in sorted(self._gateways().items())
        ]

    def _gateways(self) -> dict[str, dict[str, Any]]:
        path = self.gateways_file
        return json.loads(path.read_text()) if path.exists() else {}

    def _write_gateways(self, gateways: dict[str, dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.gateways_file.write_text(json.dumps(gateways, indent=1, sort_keys=True) + "\n")

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
        return key, x509.load_pem_x509_certificate(self.ca_file.read_bytes())

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
    gateway = actions.add_parser("gateway", help="record the VENs a gateway identity speaks for")
    gateway.add_argument("name", help="the gateway's identity (issue its certificate with --role gateway)")
    gateway.add_argument("vens", nargs="*", help="its venIds")
    gateway.add_argument("--legacy", action="store_true", help="may publish volttron/metering")
    deployment = actions.add_parser(
        "provision", help="what a deployment needs: CA, broker, services, simulator gateway, acl"
    )
    deployment.add_argument("--hosts", nargs="+", required=True, help="the broker's names and addresses")
    deployment.add_argument("--sim-vens", type=int, default=0, help="the simulator's VEN count")
    deployment.add_argument(
        "--plugin", help="the dr_legacy_stamp plugin's path as the broker sees it (default: build it here)"
    )
    password = actions.add_parser(
        "password", help="the fallback for a site without a certificate: a new password, printed once"
    )
    password.add_argument("identity", help="the venId (the MQTT username)")
    acl = actions.add_parser("acl", help="print the broker's ACL for these identities")
    acl.add_argument("--root", action="append", help="MQTT topic root (repeatable; default: none)")
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
        elif args.pki_command == "gateway":
            recorded = pki.set_gateway(args.name, args.vens, legacy=args.legacy)
            kind = "legacy gateway" if recorded.legacy else "gateway"
            print(f"dr-infra pki: {kind} {recorded.name} speaks for {len(recorded.vens)} VENs")
        elif args.pki_command == "provision":
            from .identities import provision_deployment
            from .mosquitto import BrokerTls

            tls = BrokerTls(pki.root, hosts=tuple(args.hosts), plugin=args.plugin)
            provision_deployment(tls, ["--vens", str(args.sim_vens)])
            print(f"dr-infra pki: provisioned {pki.root} (CA, broker, services, simulator, acl)")
        elif args.pki_command == "password":
            print(f"dr-infra pki: password of {args.identity} (shown once): {pki.password(args.identity)}")
        elif args.pki_command == "acl":
            print(render_acl(pki.gateways(), args.root or [""]), end="")
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
