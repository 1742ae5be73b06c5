"""Circuit kinds: each type's curtailment rule and defaults."""

import pytest

from ven_sim.domain import BATTERY_RESERVE_SOC, KINDS, CircuitType, make_circuit
from ven_sim.domain.circuits import breaker_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("ctype", "current", "floor"),
    [
        (CircuitType.EV, 7.2, 0.0),
        (CircuitType.WATER_HEATER, 4.5, 0.0),
        (CircuitType.DRYER, 5.0, 0.0),
        (CircuitType.POOL_PUMP, 1.5, 0.0),
        (CircuitType.HVAC, 4.0, 1.2),
        (CircuitType.RANGE, 10.0, 2.0),
        (CircuitType.OUTLETS, 2.0, 0.6),
        (CircuitType.LIGHTING, 1.0, 0.5),
    ],
)
def test_floor_by_rule(ctype: CircuitType, current: float, floor: float) -> None:
    c = make_circuit(ctype, 12.0)
    assert c.floor_of(current) == pytest.approx(floor)
    assert not c.critical and c.curtailable


def test_refrigerator_is_critical_with_absolute_floor() -> None:
    fridge = make_circuit(CircuitType.REFRIGERATOR, 0.2)
    assert fridge.critical
    assert fridge.floor_kw == pytest.approx(0.08)
    assert fridge.floor_of(0.15) == pytest.approx(0.08)
    assert fridge.floor_of(0.05) == pytest.approx(0.05)  # already below: nothing to shed


def test_pv_is_never_curtailed() -> None:
    pv = make_circuit(CircuitType.PV, 6.0)
    assert not pv.curtailable
    assert pv.floor_of(-4.0) == -4.0


def test_battery_discharges_only_above_reserve() -> None:
    batt = make_circuit(CircuitType.BATTERY, 5.0, soc=0.8)
    assert batt.floor_of(1.25) == -5.0
    assert 1.25 - batt.floor_of(1.25) == pytest.approx(6.25)  # stop charging and discharge
    batt.soc = BATTERY_RESERVE_SOC
    assert batt.floor_of(1.25) == 0.0  # can only stop charging
    assert batt.floor_of(-1.0) == -1.0


def test_disabled_circuit_has_nothing_to_shed() -> None:
    ev = make_circuit(CircuitType.EV, 7.2, enabled=False)
    assert ev.floor_of(3.0) == 3.0


def test_kinds_and_defaults() -> None:
    assert set(KINDS) == set(CircuitType)
    ev = make_circuit(CircuitType.EV, 9.6)
    assert (ev.load_id, ev.name, ev.type.value, ev.breaker_amps) == ("ev1", "EV Charger", "ev", 50)
    hvac = make_circuit(CircuitType.HVAC, 3.5, index=2)
    assert (hvac.load_id, hvac.name) == ("hvac2", "HVAC")
    assert make_circuit(CircuitType.LIGHTING, 1.0).soc is None
    assert breaker_for(1.5, 120) == 20
    assert breaker_for(1000.0, 240) == 125
    order = sorted(KINDS.values(), key=lambda k: k.priority)
    assert order[0].type is CircuitType.EV and order[-1].type is CircuitType.PV
