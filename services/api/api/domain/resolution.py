"""Which stored resolution answers a telemetry window: raw readings, 1-minute or 15-minute rollups.

`auto` takes the finest one that both keeps the answer small and still holds the window's
start (retention drops each resolution after its own horizon, docs/ingest.md): up to a day
of raw readings (17,280 at 5 s), up to a week of minutes (10,080), quarters beyond.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from dr_runtime.settings import TelemetryRetention

Resolution = Literal["raw", "1m", "15m"]
Requested = Literal["auto", "raw", "1m", "15m"]

#: Longest window (start to end, or to now when the end is open) each resolution answers under `auto`.
RAW_SPAN = timedelta(days=1)
MINUTE_SPAN = timedelta(days=7)


def resolution(
    requested: Requested, start: datetime, end: datetime, now: datetime, kept: TelemetryRetention
) -> Resolution:
    """The resolution asked for, or the one `auto` picks for [start, end) as of `now`."""
    if requested != "auto":
        return requested
    span, age = min(end, now) - start, now - start
    if span <= RAW_SPAN and age <= timedelta(days=kept.telemetry_raw_days):
        return "raw"
    if span <= MINUTE_SPAN and age <= timedelta(days=kept.telemetry_1m_days):
        return "1m"
    return "15m"
