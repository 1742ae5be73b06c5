"""The bridge's gateway ownership map follows BRIDGE_GATEWAYS_FILE (the PKI's gateways.json)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dr_infra.pki import Pki
from ingest.adapters import gateways
from ingest.adapters.gateways import GatewayOwners

pytestmark = pytest.mark.unit


def test_the_map_is_the_pkis_and_follows_its_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateways, "CHECK_EVERY_S", 0.0)
    pki = Pki(tmp_path)
    pki.set_gateway("gw-1", ["ven-b", "ven-a"], legacy=True)
    owners = GatewayOwners(tmp_path / "gateways.json")
    assert owners.current() == {"gw-1": frozenset({"ven-a", "ven-b"})}
    pki.set_gateway("gw-2", ["ven-c"])
    os.utime(tmp_path / "gateways.json", (1, 1))  # a new modification time, whatever the clock
    assert owners.current() == {"gw-1": frozenset({"ven-a", "ven-b"}), "gw-2": frozenset({"ven-c"})}


def test_an_unreadable_file_keeps_the_last_good_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateways, "CHECK_EVERY_S", 0.0)
    path = tmp_path / "gateways.json"
    path.write_text(json.dumps({"gw-1": {"vens": ["ven-a"], "legacy": True}}))
    owners = GatewayOwners(path)
    assert owners.current() == {"gw-1": frozenset({"ven-a"})}
    path.write_text("{not json")
    os.utime(path, (2, 2))
    assert owners.current() == {"gw-1": frozenset({"ven-a"})}
    assert GatewayOwners(None).current() == {}
