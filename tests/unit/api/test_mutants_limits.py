"""`Limits.check_kw`: the cap is inclusive and every refusal has a reason (found by mutation testing)."""

from __future__ import annotations

import pytest

from api.domain.errors import Collector
from api.domain.limits import Limits

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("kw", "refused"), [(0, True), (1e-9, False), (1000, False), (1000.001, True)])
def test_the_cap_is_inclusive_and_zero_is_refused(kw: float, refused: bool) -> None:
    problems = Collector()
    Limits(max_kw=1000).check_kw(kw, "shedKw", problems)
    assert [(p.field, p.code, bool(p.reason)) for p in problems.problems] == (
        [("shedKw", "out_of_range", True)] if refused else []
    )
