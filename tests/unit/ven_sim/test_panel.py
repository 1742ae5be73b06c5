"""Seeded panels: reproducible from (seed, venId), realistic mix of circuits."""

import pytest

from ven_sim.domain import CircuitType, UnknownLoad, build_panel

pytestmark = pytest.mark.unit

REQUIRED = {CircuitType.LIGHTING, CircuitType.OUTLETS, CircuitType.REFRIGERATOR, CircuitType.HVAC}


def test_deterministic_from_seed_and_ven_id() -> None:
    assert build_panel(5, "ven-001") == build_panel(5, "ven-001")
    panels = [build_panel(5, f"ven-{i:03d}") for i in range(50)]
    assert len({tuple((c.load_id, c.capacity_kw) for c in p.circuits) for p in panels}) > 10
    assert build_panel(5, "ven-001") != build_panel(6, "ven-001") or (
        build_panel(5, "ven-002") != build_panel(6, "ven-002")
    )


def test_every_site_has_the_basics_and_some_have_pv() -> None:
    panels = [build_panel(1, f"ven-{i}") for i in range(300)]
    for p in panels:
        types = {c.type for c in p.circuits}
        assert REQUIRED <= types
        assert p.amps in (100, 150, 200)
        assert p.voltage == 240
        assert p.max_kw == p.amps * 240 / 1000
        ids = [c.load_id for c in p.circuits]
        assert len(ids) == len(set(ids))
        for c in p.circuits:
            assert c.capacity_kw > 0 and c.breaker_amps >= 15
            assert (c.soc is not None) == (c.type is CircuitType.BATTERY)
    with_pv = sum(any(c.type is CircuitType.PV for c in p.circuits) for p in panels)
    assert 0.15 * 300 < with_pv < 0.45 * 300
    assert any(any(c.type is CircuitType.BATTERY for c in p.circuits) for p in panels)


def test_lookup_by_load_id() -> None:
    panel = build_panel(1, "ven-1")
    assert panel.circuit("hvac1").type is CircuitType.HVAC
    with pytest.raises(UnknownLoad, match="nope"):
        panel.circuit("nope")
