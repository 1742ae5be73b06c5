"""The OpenADR facade of a local platform (`make run`): a signing key, a BL client and a VEN
client, made once in a directory only its owner reads, and reused.

The clients file holds hashes only (the API's format, written by `python -m api openadr-client`,
run as a process: dr_infra does not import the services); the secrets are kept next to it so
`make run` can print them again. Webhooks may go to this machine over http (a local demo).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The clients `make run` provisions: (client id, role).
CLIENTS = (("bl", "operator"), ("ven-1", "ven"))


@dataclass(frozen=True)
class LocalOpenAdr:
    directory: Path
    secrets: dict[str, str]

    def env(self) -> dict[str, str]:
        """Absolute paths: the services do not run where `make run` was started."""
        directory = self.directory.resolve()
        return {
            "API_JWT_SECRET_FILE": str(directory / "jwt-secret"),
            "OADR_CLIENTS_FILE": str(directory / "clients"),
            "OADR_WEBHOOK_HOSTS": "127.0.0.1,localhost",
            "OADR_WEBHOOK_ALLOW_HTTP": "true",
        }


def _private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def local_openadr(directory: Path) -> LocalOpenAdr:
    """The credentials in `directory`, made there first when missing."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (directory / "jwt-secret").exists():
        _private(directory / "jwt-secret", secrets.token_urlsafe(48))
    kept = directory / "secrets"
    if not kept.exists():
        made = []
        for client, role in CLIENTS:
            command = [sys.executable, "-m", "api", "openadr-client", "--client-id", client, "--role", role]
            done = subprocess.run(
                [*command, "--file", str(directory / "clients")], capture_output=True, text=True, check=True
            )
            made.append(f"{client}:{done.stdout.strip()}\n")
        _private(kept, "".join(made))
    found = dict(line.split(":", 1) for line in kept.read_text().split() if ":" in line)
    return LocalOpenAdr(directory, found)
