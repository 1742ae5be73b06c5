"""Priority curtailment: examples and hypothesis properties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ven_sim.domain import (
    TOLERANCE_KW,
    Circuit,
    CircuitType,
    CurtailmentResult,
    InvalidValue,
    curtail,
    make_circuit,
)

pytestmark = pytest.mark.unit

TOL = 1e-9


def _by_id(result: CurtailmentResult) -> dict[str, object]:
    return {e.load_id: e for e in result.entries}


def test_sheds_by_priority_with_partial_last_step() -> None:
    ev = make_circuit(CircuitType.EV, 7.2)
    wh = make_circuit(CircuitType.WATER_HEATER, 4.5)
    hvac = make_circuit(CircuitType.HVAC, 4.0)
    result = curtail([(hvac, 4.0), (wh, 4.5), (ev, 7.0)], 9.0)
    got = {e.load_id: e.curtailed_kw for e in result.entries}
    assert got == pytest.approx({"ev1": 7.0, "wh1": 2.0, "hvac1": 0.0})
    assert result.actual_shed_kw == pytest.approx(9.0)
    assert [e.load_id for e in result.curtailed] == ["ev1", "wh1"]
    assert result.shortfall_kw == pytest.approx(0.0)
    assert result.caps() == pytest.approx({"ev1": 0.0, "wh1": 2.5})


def test_sheds_what_it_can_when_request_is_too_big() -> None:
    rng = make_circuit(CircuitType.RANGE, 10.0)
    fridge = make_circuit(CircuitType.REFRIGERATOR, 0.2)
    pv = make_circuit(CircuitType.PV, 5.0)
    result = curtail([(rng, 10.0), (fridge, 0.15), (pv, -4.0)], 100.0)
    e = _by_id(result)
    assert e["range1"].final_kw == pytest.approx(2.0)  # range to 20 %
    assert e["fridge1"].final_kw == pytest.approx(0.08)  # critical floor
    assert e["pv1"].curtailed_kw == 0.0 and e["pv1"].final_kw == -4.0
    assert result.actual_shed_kw == pytest.approx(8.0 + 0.07)
    assert result.shortfall_kw == pytest.approx(100.0 - 8.07)


def test_critical_only_after_every_non_critical() -> None:
    fridge = make_circuit(CircuitType.REFRIGERATOR, 0.2, priority=0)
    light = make_circuit(CircuitType.LIGHTING, 1.0)
    result = curtail([(fridge, 0.2), (light, 1.0)], 0.5)
    e = _by_id(result)
    assert e["light1"].curtailed_kw == pytest.approx(0.5)
    assert e["fridge1"].curtailed_kw == 0.0


def test_ack_item_shape() -> None:
    ev = make_circuit(CircuitType.EV, 9.6)
    [item] = curtail([(ev, 8.5)], 10.0).circuits_curtailed()
    assert item == {
        "id": "ev1",
        "loadId": "ev1",
        "name": "EV Charger",
        "breaker_amps": 50,
        "original_kw": 8.5,
        "curtailed_kw": 8.5,
        "final_kw": 0.0,
        "critical": False,
    }


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "5", True])
def test_rejects_bad_request(bad: object) -> None:
    with pytest.raises(InvalidValue):
        curtail([], bad)  # type: ignore[arg-type]


def test_zero_request_sheds_nothing() -> None:
    ev = make_circuit(CircuitType.EV, 7.2)
    result = curtail([(ev, 7.0)], 0.0)
    assert result.actual_shed_kw == 0.0 and result.curtailed == ()


# ---- properties ------------------------------------------------------------------------

TYPES = list(CircuitType)


@st.composite
def circuit_and_power(draw: st.DrawFn, index: int) -> tuple[Circuit, float]:
    ctype = draw(st.sampled_from(TYPES))
    capacity = draw(st.floats(0.05, 20.0))
    circuit = make_circuit(
        ctype,
        capacity,
        load_id=f"c{index}",
        priority=draw(st.integers(0, 12)),
        soc=draw(st.floats(0.0, 1.0)),
        enabled=draw(st.booleans() | st.just(True)),
    )
    share = draw(st.floats(0.0, 1.0))
    if ctype is CircuitType.PV:
        current = -capacity * share
    elif ctype is CircuitType.BATTERY:
        current = capacity * (2 * share - 1)
    else:
        current = capacity * share
    return circuit, current


@st.composite
def sites(draw: st.DrawFn) -> list[tuple[Circuit, float]]:
    n = draw(st.integers(0, 12))
    return [draw(circuit_and_power(i)) for i in range(n)]


def _is_sheddable(c: Circuit) -> bool:
    return c.curtailable and c.enabled


@settings(max_examples=400, deadline=None)
@given(site=sites(), requested=st.floats(0.0, 150.0))
def test_curtailment_properties(site: list[tuple[Circuit, float]], requested: float) -> None:
    result = curtail(site, requested)
    circuits = {c.load_id: (c, current) for c, current in site}
    assert sorted(e.load_id for e in result.entries) == sorted(circuits)

    available_total = 0.0
    for e in result.entries:
        c, current = circuits[e.load_id]
        floor = c.floor_of(current)
        available = current - floor
        available_total += available
        assert e.original_kw == current
        # never sheds more than available, never negative, never below the floor
        assert -TOL <= e.curtailed_kw <= available + TOL
        assert e.final_kw >= floor - TOL
        assert e.final_kw == pytest.approx(current - e.curtailed_kw, abs=TOL)
        if c.critical:
            assert e.final_kw >= min(current, c.floor_kw) - TOL
        if not c.curtailable:
            assert e.curtailed_kw == 0.0 and e.final_kw == current
        assert e.critical == c.critical

    # actual is the sum of the parts; never more than requested (+ float tolerance)
    assert result.actual_shed_kw == pytest.approx(sum(e.curtailed_kw for e in result.entries), abs=TOL)
    assert result.actual_shed_kw <= requested + TOLERANCE_KW + TOL
    # sheds what it can up to the request
    assert result.actual_shed_kw >= min(requested, available_total) - 1e-6

    # priority: a circuit is curtailed only if every earlier one is at its floor
    for x in result.curtailed:
        cx, _ = circuits[x.load_id]
        for y in result.entries:
            cy, cur_y = circuits[y.load_id]
            if y.load_id == x.load_id or not _is_sheddable(cy):
                continue
            earlier = (
                (not cy.critical and cy.priority < cx.priority)
                if not cx.critical
                else (not cy.critical or cy.priority < cx.priority)
            )
            if earlier:
                assert y.final_kw <= cy.floor_of(cur_y) + TOL, (x, y)
