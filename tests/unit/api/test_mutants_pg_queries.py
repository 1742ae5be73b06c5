"""How `pg_queries` maps a `vens` row to the contract's VEN (pure; found unpinned by mutation testing)."""

from __future__ import annotations

from typing import Any

import pytest

from api.adapters.pg_queries import _ven

pytestmark = pytest.mark.unit


def _row(lat: float | None, lon: float | None, loads: list[Any]) -> dict[str, Any]:
    return {
        "id": "ven-1",
        "location_lat": lat,
        "location_lon": lon,
        "loads": loads,
        "current_power_kw": 2.5,
        "shed_availability_kw": 1.0,
        "active_event_id": "evt-1",
        "shed_load_ids": ["hvac"],
    }


@pytest.mark.parametrize(
    ("lat", "lon", "location"),
    [(51.5, -0.1, {"lat": 51.5, "lon": -0.1}), (None, -0.1, None), (51.5, None, None), (None, None, None)],
)
def test_a_location_needs_both_coordinates(lat: float | None, lon: float | None, location: object) -> None:
    assert _ven(_row(lat, lon, []))["location"] == location


def test_loads_and_metrics_take_the_contract_names() -> None:
    stored = {"loadId": "hvac", "type": "hvac", "name": "HVAC", "capacityKw": 3.0, "shedCapabilityKw": 2.0,
              "currentPowerKw": 1.5, "enabled": True}  # fmt: skip
    ven = _ven(_row(None, None, [stored, "not an object", {"id": "old-style"}]))
    assert ven["loads"] == [
        {"id": "hvac", "type": "hvac", "name": "HVAC", "capacityKw": 3.0, "shedCapabilityKw": 2.0,
         "currentPowerKw": 1.5, "enabled": True},
        {"id": "old-style", "type": None, "name": None, "capacityKw": None, "shedCapabilityKw": None,
         "currentPowerKw": None, "enabled": None},
    ]  # fmt: skip
    assert ven["metrics"] == {
        "currentPowerKw": 2.5, "shedAvailabilityKw": 1.0, "activeEventId": "evt-1", "shedLoadIds": ["hvac"],
    }  # fmt: skip
    assert set(ven) == {"id", "location", "loads", "metrics"}
