"""The texts of the domain errors: a 404's detail and an Invalid's summary (found by mutation testing)."""

from __future__ import annotations

import pytest

from api.domain.errors import Invalid, NotFound, Problem

pytestmark = pytest.mark.unit


def test_not_found_names_what_is_missing() -> None:
    assert str(NotFound("VEN", "ven-1")) == "VEN 'ven-1' not found"


def test_invalid_sums_up_every_problem() -> None:
    problems = [Problem("shedKw", "is required"), Problem("endTime", "must be in the future")]
    assert str(Invalid(problems)) == "shedKw: is required; endTime: must be in the future"
