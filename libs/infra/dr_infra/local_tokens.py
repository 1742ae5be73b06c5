"""The API tokens of a local platform (`make run`, the dashboard bench): an operator's, for
the dashboard and the demo, and a registrar's, for the simulator. Made once, random, kept in
a file only its owner reads, and reused, so a dashboard tab stays logged in across restarts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalTokens:
    operator: str
    registrar: str
    #: Where they are kept (None: given, e.g. by the end-to-end fixtures).
    path: Path | None = None

    def env(self) -> dict[str, str]:
        """The API's and the simulator's settings: roles on, reads protected (as deployed)."""
        return {
            "API_TOKENS": f"operator:{self.operator},registrar:{self.registrar}",
            "PROTECT_READS": "true",
            "VEN_SIM_API_TOKEN": self.registrar,
        }

    def headers(self) -> dict[str, str]:
        """An operator's request headers."""
        return {"Authorization": f"Bearer {self.operator}"}


def local_tokens(path: Path) -> LocalTokens:
    """The tokens in `path` (`role:token` lines), made there first when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"operator:{secrets.token_urlsafe(32)}\nregistrar:{secrets.token_urlsafe(32)}\n")
    roles = dict(line.split(":", 1) for line in path.read_text().split() if ":" in line)
    return LocalTokens(roles["operator"], roles["registrar"], path)
