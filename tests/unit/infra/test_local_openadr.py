"""`make run`'s OpenADR credentials: made once, private, reused, and accepted by the facade."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.openadr.clients import ClientRegistry
from dr_infra.local_openadr import local_openadr

pytestmark = pytest.mark.unit


def test_made_once_private_and_reused(tmp_path: Path) -> None:
    made = local_openadr(tmp_path / "openadr")
    assert set(made.secrets) == {"bl", "ven-1"}
    for name in ("jwt-secret", "clients", "secrets"):
        assert (tmp_path / "openadr" / name).stat().st_mode & 0o777 == 0o600, name
    files = {k: Path(v) for k, v in made.env().items() if k.endswith("_FILE")}
    assert files and all(p.is_absolute() and p.exists() for p in files.values())  # services run elsewhere
    registry = ClientRegistry(files["OADR_CLIENTS_FILE"])
    roles = {c: registry.authenticate(c, s) for c, s in made.secrets.items()}
    assert {c: r.role for c, r in roles.items() if r} == {"bl": "operator", "ven-1": "ven"}
    again = local_openadr(tmp_path / "openadr")
    assert again.secrets == made.secrets
    assert len((tmp_path / "openadr" / "jwt-secret").read_text()) >= 32
