"""OAuth2 clients of the OpenADR facade: ids, roles and hashed secrets, in a file.

One client a line, `client_id role scrypt$n$r$p$salt$hash` (base64), written by
`python -m api openadr-client` (the secret is printed once and never stored). Every
replica reads the same file (a container secret) and reloads it when it changes, so a
client added or removed takes effect without a restart. Secrets are checked with the
standard library's scrypt and a constant-time comparison; an unknown client costs the
same hash, so timing does not say which ids exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from api.domain.access import ROLES, Role

#: scrypt cost: 16 MiB and ~40 ms a check here; tokens are cached by clients for their lifetime.
_N, _R, _P = 2**14, 8, 1
#: A clientID is also an OpenADR objectID-like name (it travels as the token's subject).
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
#: Subjects the platform gives callers that are no file client (static tokens, an open demo,
#: the default program's owner): a client of that name would own their objects.
RESERVED = frozenset({"static-token", "anonymous", "platform"})


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def _matches(secret: str, stored: str) -> bool:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(f"unknown secret hash scheme {scheme!r}")
    given = hashlib.scrypt(
        secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=64 * 1024 * 1024
    )
    return hmac.compare_digest(given, base64.b64decode(digest))


#: Checked against when the client id is unknown, so both paths cost one scrypt.
_DECOY = hash_secret(secrets.token_urlsafe(16))


def _valid_id(client_id: str) -> bool:
    return bool(CLIENT_ID.match(client_id)) and client_id not in RESERVED


@dataclass(frozen=True)
class Client:
    client_id: str
    role: Role
    secret_hash: str


def parse(text: str) -> dict[str, Client]:
    """The file's clients by id; a malformed line is a configuration error naming the line."""
    clients: dict[str, Client] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or not _valid_id(parts[0]) or parts[1] not in ROLES:
            raise ValueError(f"OADR_CLIENTS_FILE line {number}: expected `client_id role secret-hash`")
        if parts[0] in clients:
            raise ValueError(f"OADR_CLIENTS_FILE line {number}: client {parts[0]!r} appears twice")
        clients[parts[0]] = Client(parts[0], parts[1], parts[2])  # type: ignore[arg-type]  # checked
    return clients


class ClientRegistry:
    """The clients file, re-read whenever its modification time or size changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._clients: dict[str, Client] = {}

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def _current(self) -> dict[str, Client]:
        if self.path is None:
            return {}
        stat = self.path.stat()
        if (stat.st_mtime_ns, stat.st_size) != self._seen:
            self._clients = parse(self.path.read_text())
            self._seen = (stat.st_mtime_ns, stat.st_size)
        return self._clients

    def authenticate(self, client_id: str, secret: str) -> Client | None:
        """The client these credentials belong to, or None (never says which part was wrong)."""
        client = self._current().get(client_id)
        ok = _matches(secret, client.secret_hash if client else _DECOY)
        return client if ok and client is not None else None


def add_client(path: Path, client_id: str, role: Role) -> str:
    """Append a new client to the file (created if missing, mode 0600); return its secret."""
    if not _valid_id(client_id):
        raise ValueError(
            "the client id may hold only letters, digits, `_` and `-` (1-128), "
            f"and not be {', '.join(sorted(RESERVED))}"
        )
    existing = parse(path.read_text()) if path.exists() else {}
    if client_id in existing:
        raise ValueError(f"client {client_id!r} exists already in {path}")
    secret = secrets.token_urlsafe(32)
    path.touch(mode=0o600, exist_ok=True)
    with path.open("a") as out:
        out.write(f"{client_id} {role} {hash_secret(secret)}\n")
    return secret
