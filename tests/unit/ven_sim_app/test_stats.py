"""Lateness histogram: quantiles over any window from two snapshots."""

from __future__ import annotations

import pytest

from ven_sim.stats import Histogram, Stats, quantile, window

pytestmark = pytest.mark.unit


def test_quantiles_are_bucket_bounds_within_a_tenth_of_a_decade() -> None:
    h = Histogram()
    for value in [0.001] * 98 + [0.5, 2.0]:
        h.add(value)
    counts = h.snapshot()
    assert quantile(counts, 0.5) == pytest.approx(0.001, rel=0.26)
    assert quantile(counts, 0.99) == pytest.approx(0.5, rel=0.26)
    assert quantile(counts, 1.0) == pytest.approx(2.0, rel=0.26)
    assert quantile([0] * len(counts), 0.99) is None


def test_a_window_is_the_difference_of_two_snapshots() -> None:
    h = Histogram()
    h.add(5.0)
    before = h.snapshot()
    for _ in range(10):
        h.add(0.01)
    assert quantile(window(h.snapshot(), before), 1.0) == pytest.approx(0.01, rel=0.26)


def test_totals_never_report_a_quantile_above_the_max() -> None:
    stats = Stats()
    stats.lateness.add(0.0042)
    stats.telemetry_sent = 1
    totals = stats.totals()
    assert totals["lateness_ms"] == {"count": 1, "p50": 4.2, "p99": 4.2, "max": 4.2}
    assert totals["telemetry_sent"] == 1 and "applied_by_correlation" not in totals
