"""site_state: the site's local page data, read from the VEN's own curtailment state."""

from __future__ import annotations

from datetime import datetime

import pytest

from dr_contracts import jsonio
from ven_sim.domain import SimVen
from ven_sim.site_state import site_state

pytestmark = pytest.mark.unit

T0 = 1_760_997_600.0  # 2025-10-20 22:00 UTC: evening, most circuits draw power
CIRCUIT_KEYS = {
    "loadId",
    "name",
    "type",
    "priority",
    "enabled",
    "powerBeforeKw",
    "powerNowKw",
    "curtailed",
    "capKw",
}


def warmed(ven_id: str = "ven-001") -> SimVen:
    """A VEN with five minutes of readings behind it, so its baseline is a real mean."""
    ven = SimVen(ven_id, 7)
    for s in range(int(T0) - 300, int(T0), 5):
        ven.reading(s)
    return ven


def test_no_event_every_circuit_as_it_draws() -> None:
    ven = warmed()
    state = site_state(ven, T0, online=False)
    assert set(state) == {
        "venId",
        "online",
        "serverTime",
        "event",
        "totalPowerKw",
        "baselineKw",
        "shedKw",
        "circuits",
    }
    assert state["venId"] == "ven-001" and state["online"] is False and state["event"] is None
    assert datetime.fromisoformat(state["serverTime"]).timestamp() == T0
    assert [c["loadId"] for c in state["circuits"]] == [c.load_id for c in ven.panel.circuits]
    assert all(set(c) == CIRCUIT_KEYS for c in state["circuits"])
    assert not any(c["curtailed"] or c["capKw"] is not None for c in state["circuits"])
    assert all(c["powerNowKw"] == c["powerBeforeKw"] for c in state["circuits"])
    assert state["totalPowerKw"] == pytest.approx(sum(c["powerNowKw"] for c in state["circuits"]), abs=0.01)
    assert state["shedKw"] == 0.0
    jsonio.dumps(state)  # what the route sends


def test_event_banner_and_curtailed_circuits_come_from_the_vens_curtailment() -> None:
    ven = warmed()
    result = ven.start_event("evt-7", 50.0, T0, T0 + 900, T0)  # more than the site has
    state = site_state(ven, T0 + 3)
    assert state["event"] == {
        "eventId": "evt-7",
        "requestedShedKw": 50.0,
        "actualShedKw": round(result.actual_shed_kw, 3),
        "startsAt": "2025-10-20T22:00:00.000+00:00",
        "endsAt": "2025-10-20T22:15:00.000+00:00",
    }
    caps = result.caps()
    circuits = {c["loadId"]: c for c in state["circuits"]}
    assert {k for k, c in circuits.items() if c["curtailed"]} == set(caps)
    assert all(circuits[k]["capKw"] == round(cap, 3) for k, cap in caps.items())
    assert all(c["powerNowKw"] <= c["powerBeforeKw"] for c in circuits.values() if c["curtailed"])
    assert any(c["powerNowKw"] < c["powerBeforeKw"] for c in circuits.values())
    assert ven.event is not None and state["baselineKw"] == round(ven.event.baseline_kw, 3)
    assert state["shedKw"] == pytest.approx(max(0.0, state["baselineKw"] - state["totalPowerKw"]), abs=2e-3)


def test_what_the_ven_holds_not_a_fresh_curtailment() -> None:
    """A priority changed during an event moves nothing: the VEN keeps the caps it set at the start."""
    ven = warmed()
    ven.start_event("evt-p", 1.0, T0, T0 + 900, T0)
    before = {c["loadId"] for c in site_state(ven, T0 + 1)["circuits"] if c["curtailed"]}
    for c in ven.panel.circuits:
        ven.set_load(c.load_id, priority=200 - c.priority)
    after = site_state(ven, T0 + 2)
    assert {c["loadId"] for c in after["circuits"] if c["curtailed"]} == before
    assert {c["loadId"]: c["priority"] for c in after["circuits"]} == {
        c.load_id: c.priority for c in ven.panel.circuits
    }


def test_expired_event_and_restore_clear_the_banner() -> None:
    ven = warmed()
    ven.start_event("evt-x", 2.0, T0, T0 + 60, T0)
    assert site_state(ven, T0 + 59)["event"] is not None
    over = site_state(ven, T0 + 60)
    assert over["event"] is None and not any(c["curtailed"] for c in over["circuits"])
    ven.start_event("evt-y", 2.0, T0 + 61, T0 + 600, T0 + 61)
    ven.restore(T0 + 62)
    assert site_state(ven, T0 + 63)["event"] is None
