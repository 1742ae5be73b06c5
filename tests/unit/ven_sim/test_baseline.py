"""Baseline ring buffer: mean of the 5 minutes before the event start."""

import pytest

from ven_sim.domain import BaselineBuffer

pytestmark = pytest.mark.unit


def test_mean_of_window_before_start() -> None:
    buf = BaselineBuffer()
    for i in range(120):  # 10 minutes of 5 s readings, power = minute index
        buf.add(1000.0 + 5 * i, float(i // 12))
    start = 1000.0 + 600
    # window [start-300, start) holds readings 60..119, i.e. minutes 5..9
    assert buf.baseline(start, current_kw=99.0) == pytest.approx(7.0)
    assert buf.mean_between(start - 300, start) == pytest.approx(7.0)


def test_no_history_uses_current_power() -> None:
    buf = BaselineBuffer()
    assert buf.baseline(5000.0, current_kw=3.2) == 3.2
    buf.add(1000.0, 10.0)  # far older than the window
    assert buf.baseline(5000.0, current_kw=3.2) == 3.2


def test_reading_at_start_is_excluded() -> None:
    buf = BaselineBuffer()
    buf.add(100.0, 1.0)
    buf.add(400.0, 50.0)
    assert buf.baseline(400.0, current_kw=0.0) == 1.0


def test_ring_wraps_and_keeps_newest() -> None:
    buf = BaselineBuffer(capacity=8, min_spacing_s=0.0)
    for i in range(20):
        buf.add(float(i), float(i))
    assert len(buf) == 8
    assert buf.readings() == [(float(i), float(i)) for i in range(12, 20)]
    assert buf.mean_between(0.0, 100.0) == pytest.approx(sum(range(12, 20)) / 8)
    assert buf.mean_between(14.0, 17.0) == pytest.approx(15.0)
    assert buf.mean_between(0.0, 5.0) is None


def test_spacing_and_clock_going_back() -> None:
    buf = BaselineBuffer(min_spacing_s=4.0)
    assert buf.add(100.0, 1.0)
    assert not buf.add(101.0, 2.0)  # too close: skipped
    assert not buf.add(50.0, 2.0)  # older: skipped
    assert buf.add(104.0, 3.0)
    assert buf.readings() == [(100.0, 1.0), (104.0, 3.0)]
    with pytest.raises(ValueError):
        BaselineBuffer(capacity=0)
