"""Fault knobs: delay specs, a stable offline set, malformed readings ingest must refuse."""

from __future__ import annotations

import pytest

from dr_contracts.rejection import Rejected, decode_object
from dr_contracts.telemetry import normalize_telemetry
from ven_sim.faults import MALFORMED, Delay, Faults, parse_delay

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0", Delay("fixed", 0)),
        ("250", Delay("fixed", 250)),
        ("100,900", Delay("uniform", 100, 900)),
        ("exp:300", Delay("exp", 300)),
    ],
)
def test_delay_specs(spec: str, expected: Delay) -> None:
    assert parse_delay(spec) == expected


@pytest.mark.parametrize("spec", ["", "soon", "5,1", "-3", "exp:x", "1,2,3"])
def test_bad_delay_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="ack delay"):
        parse_delay(spec)


def test_delays_are_sampled_in_range() -> None:
    faults = Faults(seed=3, ack_delay=parse_delay("100,200"))
    samples = [faults.ack_delay_s() for _ in range(500)]
    assert all(0.1 <= s <= 0.2 for s in samples)
    assert Faults(ack_delay=parse_delay("exp:50")).ack_delay_s() >= 0


def test_offline_set_is_stable_and_close_to_the_fraction() -> None:
    ids = [f"ven-{i:05d}" for i in range(5000)]
    first = {v for v in ids if Faults(seed=7, offline_fraction=0.2).is_offline(v)}
    again = {v for v in ids if Faults(seed=7, offline_fraction=0.2).is_offline(v)}
    assert first == again and 900 < len(first) < 1100


def test_rates_zero_and_one() -> None:
    never, always = Faults(), Faults(ack_drop_rate=1, reject_rate=1, malformed_rate=1)
    assert not any(never.drop_ack() or never.reject() or never.malformed("v", 1) for _ in range(100))
    assert all(always.drop_ack() and always.reject() and always.malformed("v", 1) for _ in range(100))


@pytest.mark.parametrize("make", MALFORMED)
def test_every_malformed_reading_is_refused_by_the_contract(make) -> None:
    raw = make("ven-001", 1_760_000_000)
    with pytest.raises(Rejected):
        normalize_telemetry(decode_object(raw))
