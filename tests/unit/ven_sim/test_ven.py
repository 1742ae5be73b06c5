"""SimVen: telemetry, events (baseline, expiry, overlap), per-load ops and queries."""

from collections.abc import Callable

import pytest

from ven_sim.domain import (
    BATTERY_RESERVE_SOC,
    CircuitType,
    DomainError,
    InvalidValue,
    Panel,
    SimVen,
    UnknownLoad,
    Unsupported,
    circuit_kw,
    make_circuit,
)

pytestmark = pytest.mark.unit

T0 = 1760997600  # 2025-10-20 22:00 UTC
SEED = 3
READING_KEYS = {
    "venId",
    "timestamp",
    "usedPowerKw",
    "shedPowerKw",
    "requestedReductionKw",
    "eventId",
    "baselinePowerKw",
    "batterySoc",
    "panelAmperageRating",
    "panelVoltage",
    "panelMaxKw",
    "currentAmps",
    "panelUtilizationPercent",
    "loads",
    "extras",
}
LOAD_KEYS = {
    "loadId",
    "name",
    "type",
    "capacityKw",
    "currentPowerKw",
    "shedCapabilityKw",
    "enabled",
    "priority",
}


def site(*types: CircuitType, amps: int = 200, **caps: float) -> SimVen:
    """A VEN with exactly these circuits (capacity 5 kW unless given by load id)."""
    circuits = []
    for t in types:
        c = make_circuit(t, 5.0, soc=0.9)
        c.capacity_kw = caps.get(c.load_id, c.capacity_kw)
        c.floor_kw = round(c.kind.floor_fraction_of_capacity * c.capacity_kw, 3)
        circuits.append(c)
    return SimVen("ven-t", SEED, panel=Panel(amps, 240, circuits))


def natural(ven: SimVen, load_id: str, t: float) -> float:
    c = ven.panel.circuit(load_id)
    return circuit_kw(ven.seed, ven.ven_id, load_id, c.type, c.capacity_kw, t, ven.utc_offset_s)


def find_time(ven: SimVen, load_id: str, pred: Callable[[float], bool], start: int = T0) -> int:
    for t in range(start, start + 3 * 86400, 300):
        if pred(natural(ven, load_id, t)):
            return t
    raise AssertionError("no such time")


def loads_by_id(reading: dict) -> dict[str, dict]:
    return {load["loadId"]: load for load in reading["loads"]}


# ---- telemetry -------------------------------------------------------------------------


def test_reading_has_canonical_values() -> None:
    ven = SimVen("ven-42", 11)
    r = ven.reading(T0)
    assert set(r) == READING_KEYS
    assert all(set(load) == LOAD_KEYS for load in r["loads"])
    assert r["venId"] == "ven-42" and r["timestamp"] == T0
    assert r["eventId"] is None and r["shedPowerKw"] == 0.0 and r["requestedReductionKw"] == 0.0
    assert r["usedPowerKw"] == pytest.approx(sum(x["currentPowerKw"] for x in r["loads"]), abs=0.01)
    assert r["panelMaxKw"] == r["panelAmperageRating"] * 240 / 1000
    assert r["panelVoltage"] == 240
    assert r["currentAmps"] == pytest.approx(abs(r["usedPowerKw"]) * 1000 / 240, abs=0.01)
    assert r["panelUtilizationPercent"] == pytest.approx(
        r["currentAmps"] * 100 / r["panelAmperageRating"], abs=0.01
    )
    assert r["baselinePowerKw"] == r["usedPowerKw"]  # no history yet: current power
    assert r["extras"] == {"reportIntervalSeconds": 5.0}  # so the platform knows when it is offline


def test_same_seed_same_readings_different_seed_different() -> None:
    def run(seed: int) -> list[dict]:
        ven = SimVen("ven-1", seed)
        return [ven.reading(T0 + 5 * i) for i in range(200)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_pv_is_negative_and_makes_net_export() -> None:
    ven = site(CircuitType.PV, CircuitType.REFRIGERATOR, **{"pv1": 8.0})
    noon = T0 - 10 * 3600  # 12:00 UTC
    r = ven.reading(noon)
    pv = loads_by_id(r)["pv1"]
    assert pv["currentPowerKw"] < 0 and pv["shedCapabilityKw"] == 0.0
    assert r["usedPowerKw"] < 0  # net grid import is negative: exporting
    assert r["currentAmps"] > 0
    assert r["batterySoc"] is None


# ---- events ----------------------------------------------------------------------------


def test_event_curtails_by_priority_and_reports_shed() -> None:
    ven = site(CircuitType.EV, CircuitType.HVAC, CircuitType.LIGHTING, **{"ev1": 7.2})
    t = find_time(ven, "ev1", lambda kw: kw > 0)
    for s in range(t - 300, t, 5):
        ven.reading(s)
    ev_kw = natural(ven, "ev1", t)
    result = ven.start_event("evt-1", 2.0, t, t + 3600, t)
    assert [e.load_id for e in result.curtailed] == ["ev1"]
    assert result.actual_shed_kw == pytest.approx(2.0)
    assert result.curtailed[0].final_kw == pytest.approx(ev_kw - 2.0)
    r = ven.reading(t + 5)
    assert r["eventId"] == "evt-1" and r["requestedReductionKw"] == 2.0
    assert loads_by_id(r)["ev1"]["currentPowerKw"] <= round(ev_kw - 2.0, 3) + 1e-3
    assert r["shedPowerKw"] == pytest.approx(max(0.0, r["baselinePowerKw"] - r["usedPowerKw"]), abs=2e-3)
    status = ven.status()
    assert status["eventId"] == "evt-1" and status["shedLoadIds"] == ["ev1"]
    assert status["actualShedKw"] == pytest.approx(2.0)


def test_event_baseline_is_mean_of_five_minutes_before_start() -> None:
    ven = SimVen("ven-b", 5)
    readings = {s: ven.reading(s)["usedPowerKw"] for s in range(T0 - 900, T0, 5)}
    expected = [kw for s, kw in readings.items() if T0 - 300 <= s < T0]
    ven.start_event("evt-b", 1.0, T0, T0 + 600, T0)
    assert ven.status()["baselinePowerKw"] == pytest.approx(sum(expected) / len(expected), abs=1e-3)
    assert ven.reading(T0 + 5)["baselinePowerKw"] == pytest.approx(sum(expected) / len(expected), abs=1e-3)


def test_event_baseline_without_history_is_current_power() -> None:
    ven = SimVen("ven-c", 5)
    result = ven.start_event("evt-c", 1.0, T0, T0 + 600, T0)
    assert ven.event is not None
    assert ven.event.baseline_kw == pytest.approx(sum(e.original_kw for e in result.entries))


def test_event_expiry_restores_without_command() -> None:
    ven = site(CircuitType.EV, CircuitType.WATER_HEATER, CircuitType.OUTLETS)
    t = find_time(ven, "ev1", lambda kw: kw > 0)
    ven.start_event("evt-x", 3.0, t, t + 60, t)
    assert ven.reading(t + 30)["eventId"] == "evt-x"
    r = ven.reading(t + 60)
    assert r["eventId"] is None and r["requestedReductionKw"] == 0.0 and r["shedPowerKw"] == 0.0
    assert ven.status()["shedLoadIds"] == []
    assert loads_by_id(r)["ev1"]["currentPowerKw"] == pytest.approx(natural(ven, "ev1", t + 60), abs=1e-3)


def test_tick_reports_the_expired_event() -> None:
    ven = SimVen("ven-d", 1)
    ven.start_event("evt-t", 1.0, T0, T0 + 10, T0)
    assert ven.tick(T0 + 9) is None
    assert ven.tick(T0 + 10) == "evt-t"
    assert ven.tick(T0 + 11) is None


def test_overlapping_event_replaces_current_one() -> None:
    ven = SimVen("ven-o", 9)
    twin = SimVen("ven-o", 9)
    for s in range(T0 - 300, T0, 5):
        ven.reading(s)
        twin.reading(s)
    ven.start_event("evt-1", 1.5, T0, T0 + 3600, T0)
    later = T0 + 600
    second = ven.start_event("evt-2", 4.0, later, later + 7200, later)
    # the same as a fresh start on the uncurtailed loads
    for s in range(T0, later, 5):
        twin.reading(s)
    alone = twin.start_event("evt-2", 4.0, later, later + 7200, later)
    assert [(e.load_id, e.original_kw) for e in second.entries] == [
        (e.load_id, e.original_kw) for e in alone.entries
    ]
    assert second.actual_shed_kw == pytest.approx(alone.actual_shed_kw)
    status = ven.status()
    assert status["eventId"] == "evt-2" and status["requestedReductionKw"] == 4.0
    assert status["eventEndTs"] == later + 7200
    assert ven.reading(T0 + 3600)["eventId"] == "evt-2"  # the first event's end no longer counts
    assert ven.reading(later + 7200)["eventId"] is None


def test_restore_gives_loads_back() -> None:
    ven = site(CircuitType.EV, CircuitType.RANGE)
    t = find_time(ven, "ev1", lambda kw: kw > 0)
    ven.start_event("evt-r", 3.0, t, t + 3600, t)
    ven.shed_load("range1", 1.0, 600, t)
    assert ven.restore(t + 10) == "evt-r"
    r = ven.reading(t + 10)
    assert r["eventId"] is None
    assert ven.status()["shedLoadIds"] == []
    assert loads_by_id(r)["ev1"]["currentPowerKw"] == pytest.approx(natural(ven, "ev1", t + 10), abs=1e-3)
    assert ven.restore(t + 20) is None  # nothing to restore is fine


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"event_id": ""}, "event_id"),
        ({"shed_kw": -1.0}, "shed_kw"),
        ({"shed_kw": float("nan")}, "shed_kw"),
        ({"end_ts": T0}, "end_ts"),
        ({"start_ts": T0 - 7200, "end_ts": T0 - 3600}, "end_ts"),
    ],
)
def test_start_event_rejects_bad_arguments(kwargs: dict, field: str) -> None:
    ven = SimVen("ven-e", 1)
    args = {"event_id": "evt", "shed_kw": 1.0, "start_ts": T0, "end_ts": T0 + 60, "now": T0}
    with pytest.raises(InvalidValue) as info:
        ven.start_event(**(args | kwargs))
    assert info.value.field == field and field in info.value.reason
    assert ven.event is None


def test_battery_discharges_in_event_down_to_reserve() -> None:
    ven = site(CircuitType.BATTERY, CircuitType.OUTLETS)
    batt = ven.panel.circuit("batt1")
    batt.soc = 0.3
    result = ven.start_event("evt-bat", 3.0, T0, T0 + 4 * 3600, T0)
    assert result.curtailed[0].load_id == "batt1"  # battery before outlets
    r = ven.reading(T0)
    assert loads_by_id(r)["batt1"]["currentPowerKw"] < 0
    socs = [ven.reading(T0 + 60 * m)["batterySoc"] for m in range(1, 120)]
    assert socs == sorted(socs, reverse=True) and socs[0] < 0.3
    assert socs[-1] == pytest.approx(BATTERY_RESERVE_SOC, abs=1e-3)
    assert loads_by_id(ven.reading(T0 + 7300))["batt1"]["currentPowerKw"] == 0.0
    ven.restore(T0 + 7300)
    assert loads_by_id(ven.reading(T0 + 7305))["batt1"]["currentPowerKw"] > 0  # recharging
    assert ven.reading(T0 + 9000)["batterySoc"] > socs[-1]


# ---- per-load ops ----------------------------------------------------------------------


def test_shed_load_partial_floor_and_expiry() -> None:
    ven = site(CircuitType.RANGE, CircuitType.LIGHTING, **{"range1": 10.0})
    t = find_time(ven, "range1", lambda kw: kw > 0)
    kw = natural(ven, "range1", t)
    entry = ven.shed_load("range1", 1.0, 120, t)
    assert entry.curtailed_kw == pytest.approx(1.0) and entry.final_kw == pytest.approx(kw - 1)
    assert loads_by_id(ven.reading(t))["range1"]["currentPowerKw"] == pytest.approx(kw - 1, abs=1e-3)
    big = ven.shed_load("range1", 100.0, 120, t)
    assert big.final_kw == pytest.approx(0.2 * kw)  # range never below 20 %
    assert ven.status()["shedLoadIds"] == ["range1"]
    assert ven.status(t + 120)["shedLoadIds"] == []  # duration over: restored by itself


@pytest.mark.parametrize(
    ("load_id", "reduce_kw", "duration_s", "error"),
    [
        ("nope", 1.0, 60, UnknownLoad),
        ("ev1", -1.0, 60, InvalidValue),
        ("ev1", 1.0, 0, InvalidValue),
        ("ev1", "1", 60, InvalidValue),
        ("pv1", 1.0, 60, InvalidValue),
    ],
)
def test_shed_load_rejects(
    load_id: str, reduce_kw: object, duration_s: float, error: type[DomainError]
) -> None:
    ven = site(CircuitType.EV, CircuitType.PV)
    with pytest.raises(error) as info:
        ven.shed_load(load_id, reduce_kw, duration_s, T0)  # type: ignore[arg-type]
    assert info.value.reason
    assert ven.overrides == {}


def test_set_load_enabled_capacity_priority() -> None:
    ven = site(CircuitType.EV, CircuitType.WATER_HEATER, CircuitType.HVAC)
    t = find_time(ven, "hvac1", lambda kw: kw > 1)
    described = ven.set_load("hvac1", enabled=False)
    assert described["enabled"] is False
    hvac = loads_by_id(ven.reading(t))["hvac1"]
    assert hvac["currentPowerKw"] == 0.0 and hvac["shedCapabilityKw"] == 0.0
    ven.set_load("hvac1", enabled=True, capacity_kw=2.0, priority=0)
    hvac = loads_by_id(ven.reading(t))["hvac1"]
    assert hvac["capacityKw"] == 2.0 and hvac["priority"] == 0 and hvac["enabled"]
    assert 0 < hvac["currentPowerKw"] <= 2.0
    # priority 0 now sheds HVAC first, down to 30 %
    result = ven.start_event("evt-p", 0.1, t, t + 60, t)
    assert result.curtailed[0].load_id == "hvac1"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"load_id": "nope", "enabled": True}, UnknownLoad),
        ({"load_id": "ev1"}, InvalidValue),
        ({"load_id": "ev1", "enabled": "yes"}, InvalidValue),
        ({"load_id": "ev1", "capacity_kw": 0.0}, InvalidValue),
        ({"load_id": "ev1", "capacity_kw": -2.0}, InvalidValue),
        ({"load_id": "ev1", "enabled": False, "priority": -1}, InvalidValue),
        ({"load_id": "ev1", "enabled": False, "priority": 1.5}, InvalidValue),
    ],
)
def test_set_load_rejects_and_changes_nothing(kwargs: dict, error: type[DomainError]) -> None:
    ven = site(CircuitType.EV)
    with pytest.raises(error):
        ven.set_load(**kwargs)
    ev = ven.panel.circuit("ev1")
    assert (ev.enabled, ev.capacity_kw, ev.priority) == (True, 5.0, 1)


def test_set_config_and_config() -> None:
    ven = SimVen("ven-cfg", 1)
    cfg = ven.config()
    assert cfg["reportIntervalSeconds"] == 5.0 and "targetPowerKw" not in cfg
    assert cfg["loadIds"] == [c.load_id for c in ven.panel.circuits]
    cfg = ven.set_config(report_interval_seconds=10)
    assert cfg["reportIntervalSeconds"] == 10.0 and cfg["report_interval_seconds"] == 10.0
    assert ven.reading(T0)["extras"]["reportIntervalSeconds"] == 10.0
    for bad in ({}, {"report_interval_seconds": 0}, {"report_interval_seconds": -5}):
        with pytest.raises(InvalidValue):
            ven.set_config(**bad)
    assert ven.report_interval_seconds == 10.0


@pytest.mark.parametrize(
    "asked",
    [
        {"target_power_kw": 4.5},
        {"target_power_kw": 0},
        {"report_interval_seconds": 2, "target_power_kw": 4.5},
    ],
)
def test_set_config_refuses_a_power_target_and_changes_nothing(asked: dict) -> None:
    ven = SimVen("ven-cfg", 1)
    with pytest.raises(Unsupported, match="target_power_kw: not supported"):
        ven.set_config(**asked)
    assert ven.config() == SimVen("ven-cfg", 1).config()
    assert ven.reading(T0)["extras"] == {"reportIntervalSeconds": 5.0}
    assert not ven.status(T0)["shedLoadIds"]


def test_status_and_loads_queries() -> None:
    ven = SimVen("ven-q", 2)
    idle = ven.status(T0)
    assert idle["eventId"] is None and idle["shedLoadIds"] == [] and idle["venId"] == "ven-q"
    loads = ven.loads(T0)
    assert [x["loadId"] for x in loads] == [c.load_id for c in ven.panel.circuits]
    assert all(LOAD_KEYS <= set(x) and "critical" in x and "breakerAmps" in x for x in loads)
    reading = ven.reading(T0)
    assert [x["currentPowerKw"] for x in ven.loads()] == [x["currentPowerKw"] for x in reading["loads"]]
    assert ven.status()["usedPowerKw"] == pytest.approx(reading["usedPowerKw"], abs=1e-3)


# ---- snapshot (the site's local page) ----------------------------------------------------


def test_snapshot_shows_each_circuit_before_and_after_its_cap() -> None:
    ven = site(CircuitType.EV, CircuitType.HVAC, CircuitType.LIGHTING, **{"ev1": 7.2})
    t = find_time(ven, "ev1", lambda kw: kw > 2.5)
    for s in range(t - 300, t, 5):
        ven.reading(s)
    result = ven.start_event("evt-s", 2.0, t, t + 600, t)
    snap = ven.snapshot(t + 5)
    by_id = {c.circuit.load_id: c for c in snap.circuits}
    assert list(by_id) == ["ev1", "hvac1", "light1"]
    ev = by_id["ev1"]
    assert ev.cap_kw == result.caps()["ev1"]
    assert ev.natural_kw == pytest.approx(natural(ven, "ev1", t + 5))
    assert ev.power_kw == pytest.approx(min(ev.natural_kw, ev.cap_kw)) and ev.power_kw < ev.natural_kw
    hvac = by_id["hvac1"]
    assert hvac.cap_kw is None and hvac.power_kw == hvac.natural_kw
    assert hvac.natural_kw == pytest.approx(natural(ven, "hvac1", t + 5))
    assert snap.event is ven.event and snap.event is not None and snap.event.end_ts == t + 600
    assert snap.power_kw == pytest.approx(sum(c.power_kw for c in snap.circuits))


@pytest.mark.parametrize("in_event", [False, True])
def test_snapshot_agrees_with_telemetry_at_the_same_instant(in_event: bool) -> None:
    ven = SimVen("ven-snap", 4)
    for s in range(T0 - 300, T0, 5):
        ven.reading(s)
    if in_event:
        ven.start_event("evt-a", 3.0, T0, T0 + 600, T0)
    kept = len(ven.baseline_buffer)
    snap = ven.snapshot(T0 + 7)
    assert len(ven.baseline_buffer) == kept  # a look at the page is not a reading
    r = ven.reading(T0 + 7)
    assert round(snap.power_kw, 3) == r["usedPowerKw"]
    assert round(snap.baseline_kw, 3) == r["baselinePowerKw"]
    assert round(snap.shed_kw, 3) == r["shedPowerKw"] and (snap.shed_kw > 0) is in_event
    assert [round(c.power_kw, 3) for c in snap.circuits] == [x["currentPowerKw"] for x in r["loads"]]
    capped = {c.circuit.load_id for c in snap.circuits if c.cap_kw is not None}
    assert capped == set(ven.status()["shedLoadIds"])


def test_snapshot_expires_the_event_and_shows_per_load_sheds() -> None:
    ven = site(CircuitType.EV, CircuitType.WATER_HEATER, CircuitType.OUTLETS)
    t = find_time(ven, "ev1", lambda kw: kw > 1.0)
    ven.start_event("evt-e", 3.0, t, t + 60, t)
    assert ven.snapshot(t + 59).event is not None
    over = ven.snapshot(t + 60)
    assert over.event is None and over.shed_kw == 0.0
    assert all(c.cap_kw is None and c.power_kw == c.natural_kw for c in over.circuits)
    ven.shed_load("ev1", 1.0, 30, t + 61)
    shed = {c.circuit.load_id: c for c in ven.snapshot(t + 62).circuits}
    assert shed["ev1"].cap_kw is not None and shed["wh1"].cap_kw is None
    assert ven.snapshot(t + 62).event is None  # a shedLoad is no event
