"""The overload bench's drain time: from the end of the overload to the last late window."""

from __future__ import annotations

import pytest

from bench.ingest import WINDOW_S
from bench.overload import drain_time

pytestmark = pytest.mark.unit


def series(lags_ms: list[float | None]) -> dict[str, list[float | None]]:
    return {"t": [i * WINDOW_S for i in range(len(lags_ms))], "lag_p99_ms": lags_ms}


def test_never_late_is_no_drain() -> None:
    assert drain_time(series([100.0, None, 1999.0] + [50.0] * 20), over_end_t=1.0) == 0.0


def test_drained_after_the_last_window_above_two_seconds() -> None:
    lags = [100.0, 5000.0, 9000.0, 3000.0, 2500.0, None, 1500.0] + [80.0] * 20
    # The last late window starts at 4 * WINDOW_S; drained once it ends, counted from over_end_t.
    assert drain_time(series(lags), over_end_t=0.5) == 5 * WINDOW_S - 0.5


def test_still_late_at_the_end_never_drained() -> None:
    assert drain_time(series([100.0] * 10 + [4000.0] * 3), over_end_t=1.0) is None
