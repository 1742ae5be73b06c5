"""VEN rows: registration fold (order-independent) and what a reading says about the VEN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dr_contracts.facts import Location, VenDeleted, VenRegistered, VenUpdated
from ingest.domain.vens import Registration, metrics, register, report_interval
from tests import samples
from tests.unit.ingest.test_readings import reading_of_payload

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fold(facts: list[tuple[object, datetime]], state: Registration | None = None) -> Registration | None:
    for fact, at in facts:
        state = register(state, fact, at)
    return state


def test_registered_over_rest() -> None:
    state = fold(
        [(VenRegistered(venId="ven-1", name="Home", location=Location(lat=1, lon=2), status="on"), T0)]
    )
    assert state == Registration(
        ven_id="ven-1", name="Home", source="api", created_at=T0, admin_status="on", lat=1, lon=2
    )


def test_updated_keeps_what_it_does_not_mention() -> None:
    state = fold(
        [
            (VenRegistered(venId="ven-1", name="Home", location=Location(lat=1, lon=2)), T0),
            (VenUpdated(venId="ven-1", status="maintenance"), T0 + timedelta(1)),
        ]
    )
    assert (state.name, state.lat, state.admin_status) == ("Home", 1, "maintenance")


def test_deleted_then_registered_again_comes_back() -> None:
    state = fold(
        [
            (VenRegistered(venId="ven-1", name="Home"), T0),
            (VenDeleted(venId="ven-1"), T0 + timedelta(1)),
            (VenRegistered(venId="ven-1", name="New"), T0 + timedelta(2)),
        ]
    )
    assert (state.name, state.deleted_at, state.created_at) == ("New", None, T0)


def test_registry_fact_for_a_telemetry_born_ven_matches_either_order() -> None:
    """Telemetry (auto-registration) and the registry are different topics: order must not matter."""
    telemetry_row = Registration(ven_id="ven-1", name="ven-1", source="telemetry", created_at=T0)
    update = (VenUpdated(venId="ven-1", name="Renamed"), T0 + timedelta(hours=1))
    delete = (VenDeleted(venId="ven-1"), T0 + timedelta(hours=2))
    telemetry_first = fold([update, delete], telemetry_row)
    registry_first = fold([update, delete])
    # the telemetry arriving later inserts nothing (ON CONFLICT DO NOTHING) and lowers created_at
    registry_first = Registration(
        **{**registry_first.__dict__, "created_at": min(registry_first.created_at, T0)}
    )
    assert telemetry_first == registry_first
    assert (telemetry_first.name, telemetry_first.source, telemetry_first.deleted_at) == (
        "Renamed",
        "telemetry",
        T0 + timedelta(hours=2),
    )


def test_registering_a_telemetry_born_ven_keeps_its_first_sighting() -> None:
    telemetry_row = Registration(ven_id="ven-1", name="ven-1", source="telemetry", created_at=T0)
    state = fold([(VenRegistered(venId="ven-1", name="Home"), T0 + timedelta(days=3))], telemetry_row)
    assert (state.name, state.source, state.created_at) == ("Home", "api", T0)


def test_metrics_of_a_reading() -> None:
    m = metrics(reading_of_payload(samples.telemetry("ven-1")))
    assert m.shed_availability_kw == pytest.approx(0.5)  # the disabled EV does not count
    assert m.report_interval_s == 5.0
    assert m.loads[0] == {
        "id": "hvac1",
        "type": "hvac",
        "name": "HVAC",
        "capacityKw": 3.5,
        "shedCapabilityKw": 0.5,
        "currentPowerKw": 0.82,
        "enabled": True,
        "priority": 1,
    }


@pytest.mark.parametrize(
    ("extras", "expected"),
    [
        ({}, 5.0),
        ({"reportIntervalSeconds": 10}, 10.0),
        ({"report_interval_s": 2.5}, 2.5),
        ({"reportIntervalSeconds": "10"}, 5.0),
        ({"reportIntervalSeconds": -1}, 5.0),
        ({"interval_s": True}, 5.0),
    ],
)
def test_report_interval(extras: dict, expected: float) -> None:
    assert report_interval(extras) == expected
