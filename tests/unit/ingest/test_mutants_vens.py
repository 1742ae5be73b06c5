"""A reading's announced report interval, exactly at the bounds it may take (docs/mutation.md)."""

import pytest

from ingest.domain.vens import DEFAULT_REPORT_INTERVAL_S, INTERVAL_KEYS, report_interval

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("announced", "expected"),
    [(0.5, 0.5), (86_400, 86_400.0), (0, DEFAULT_REPORT_INTERVAL_S), (86_400.5, DEFAULT_REPORT_INTERVAL_S)],
)
def test_an_interval_counts_from_just_above_zero_up_to_a_day(announced, expected):
    assert report_interval({INTERVAL_KEYS[0]: announced}) == expected
