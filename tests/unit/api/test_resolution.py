"""The `auto` resolution of a telemetry window: by its length and by how old its start is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.domain.resolution import resolution
from dr_runtime.settings import TelemetryRetention

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
KEPT = TelemetryRetention(telemetry_raw_days=7, telemetry_1m_days=90)
OPEN = datetime(9999, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (NOW - timedelta(hours=24), OPEN, "raw"),  # the default window
        (NOW - timedelta(hours=25), OPEN, "1m"),
        (NOW - timedelta(days=7), NOW - timedelta(days=6, hours=12), "raw"),  # short, still kept raw
        (NOW - timedelta(days=8), NOW - timedelta(days=7, hours=23), "1m"),  # short, raw dropped
        (NOW - timedelta(days=7), OPEN, "1m"),
        (NOW - timedelta(days=7, seconds=1), OPEN, "15m"),
        (NOW - timedelta(days=91), NOW - timedelta(days=90, hours=23), "15m"),  # minutes dropped
        (NOW - timedelta(days=30), NOW - timedelta(days=29), "1m"),
    ],
)
def test_auto_picks_the_finest_resolution_that_is_small_and_kept(
    start: datetime, end: datetime, expected: str
) -> None:
    assert resolution("auto", start, end, NOW, KEPT) == expected


def test_an_explicit_resolution_is_used_as_asked() -> None:
    assert resolution("raw", NOW - timedelta(days=400), NOW, NOW, KEPT) == "raw"
