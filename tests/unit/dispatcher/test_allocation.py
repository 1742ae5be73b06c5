import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.allocation import Candidate, allocate

pytestmark = pytest.mark.unit

EPS = 1e-6
capability = st.one_of(st.none(), st.floats(min_value=0, max_value=500, allow_nan=False))
candidates = st.lists(capability, max_size=40).map(
    lambda caps: [Candidate(f"ven-{i}", c) for i, c in enumerate(caps)]
)
requested = st.floats(min_value=0, max_value=10_000, allow_nan=False)


@given(requested, candidates)
def test_never_more_than_requested_nor_than_a_ven_can_shed(kw, cands):
    result = allocate(kw, cands)
    total = sum(s.shed_kw for s in result.shares)
    assert total <= kw + EPS
    assert total + result.unallocated_kw == pytest.approx(kw, abs=0.001 * (len(cands) + 1))
    caps = {c.ven_id: c.capability_kw for c in cands}
    for share in result.shares:
        assert share.shed_kw > 0
        assert share.capability_kw == caps[share.ven_id]
        if share.capability_kw is not None:
            assert share.shed_kw <= share.capability_kw + EPS


@given(requested, st.integers(min_value=1, max_value=50))
def test_even_split_when_every_capability_is_unknown(kw, n):
    result = allocate(kw, [Candidate(f"v{i}", None) for i in range(n)])
    kws = [s.shed_kw for s in result.shares]
    assert max(kws, default=0) - min(kws, default=0) <= 0.001 + EPS
    assert sum(kws) == pytest.approx(math.floor(kw * 1000 + 1e-6) / 1000, abs=EPS)


@given(requested, candidates)
def test_everything_is_allocated_when_some_capability_is_unknown(kw, cands):
    if not any(c.capability_kw is None for c in cands):
        return
    assert allocate(kw, cands).unallocated_kw <= 0.001 * (len(cands) + 1)


def test_proportional_to_capability():
    result = allocate(6, [Candidate("a", 2), Candidate("b", 4), Candidate("c", 6)])
    assert {s.ven_id: s.shed_kw for s in result.shares} == {"a": 1, "b": 2, "c": 3}
    assert result.unallocated_kw == 0


def test_more_than_everyone_can_shed_is_reported_unallocated():
    result = allocate(10, [Candidate("a", 2), Candidate("b", 3)])
    assert {s.ven_id: s.shed_kw for s in result.shares} == {"a": 2, "b": 3}
    assert result.unallocated_kw == 5


def test_capped_vens_overflow_to_unknown_ones():
    # weights: a=1, b=mean(1)=1 -> 5 each; a is capped at 1, b takes the rest
    result = allocate(10, [Candidate("a", 1), Candidate("b", None)])
    assert {s.ven_id: s.shed_kw for s in result.shares} == {"a": 1, "b": 9}


def test_vens_that_cannot_shed_are_left_out():
    result = allocate(3, [Candidate("a", 0), Candidate("b", -1), Candidate("c", 5)])
    assert [s.ven_id for s in result.shares] == ["c"]


def test_no_vens_means_all_unallocated():
    assert allocate(7.5, []).unallocated_kw == 7.5
