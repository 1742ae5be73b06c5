"""Exact allocations that pin the water-filling rules the property tests leave loose (docs/mutation.md)."""

import pytest

from dispatcher.domain.allocation import Candidate, allocate

pytestmark = pytest.mark.unit


def shed(requested_kw: float, *caps: float | None) -> dict[str, float]:
    result = allocate(requested_kw, [Candidate(f"v{i}", cap) for i, cap in enumerate(caps)])
    return {share.ven_id: share.shed_kw for share in result.shares}


def test_an_unknown_ven_weighs_the_mean_known_capability():
    assert shed(3.0, 4.0, 2.0, None) == {"v0": 1.333, "v1": 0.667, "v2": 1.0}


def test_a_mean_below_one_kw_is_still_the_weight_of_an_unknown_ven():
    assert shed(0.6, 0.5, None) == {"v0": 0.3, "v1": 0.3}


def test_a_negative_capability_counts_as_zero_in_the_mean():
    assert shed(2.0, -1.0, 3.0, None) == {"v1": 1.333, "v2": 0.667}


def test_one_watt_of_capability_is_enough_to_take_part():
    result = allocate(1.0, [Candidate("v0", 0.001)])
    assert [(s.ven_id, s.shed_kw) for s in result.shares] == [("v0", 0.001)]
    assert result.unallocated_kw == 0.999


def test_the_spare_watt_goes_to_the_largest_remainder():
    # raw shares 0.333 W and 0.667 W: one whole watt to hand out.
    assert shed(0.001, 1.0, 2.0) == {"v1": 0.001}


def test_a_ven_takes_a_rounding_watt_up_to_exactly_its_capability():
    # raw shares 1.4 W and 0.7 W; the second VEN may round up to its 1 W; the rest is under a watt.
    result = allocate(0.0021, [Candidate("v0", 0.002), Candidate("v1", 0.001)])
    assert {s.ven_id: s.shed_kw for s in result.shares} == {"v0": 0.001, "v1": 0.001}
    assert result.unallocated_kw == 0.0
