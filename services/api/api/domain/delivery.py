"""`GET /api/events/{id}/delivery`: the time buckets of an event's delivered-kW chart.

Decisions:
- The window is the event's: from its activation (else its start time) to when it ended
  (else its end time). Buckets are `step` long from the window's start, so they line up
  whatever `start` a client asks from.
- The default step keeps a whole window to at most MAX_BUCKETS points (about a chart's
  width), and is never shorter than two report intervals of the event's slowest VEN (nor
  MIN_STEP_S): a bucket must hold a reading of every VEN that reports, or the sum over VENs
  would count only those whose turn fell in it (measured: 10 s reporters in 5 s buckets
  showed half the delivered kW).
- Only settled buckets are listed: ended at least one report interval ago, so every VEN's
  reading of the bucket has had time to arrive (a still-filling bucket would show a dip).
  `settled_until` says where the unsettled ones begin: a live chart asks from there next,
  and reads each reading once.
- `start` keeps the buckets that start at or after it: a live chart fetches only its new
  points, passing back the `stepSeconds` of its first answer so the buckets stay the same.
- `end` keeps the buckets that start before it (whole: a bucket is never cut): a chart of a
  long event over a large fleet fills its history a slice at a time, each request bounded
  (every reading of the slice is read: 10,000 VENs x 2 minutes is about 300 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

MIN_STEP_S = 5
MAX_STEP_S = 3600
MAX_BUCKETS = 360


#: The report interval assumed of VENs that never said theirs (the contract's 5 s).
DEFAULT_REPORT_INTERVAL_S = 5.0


def default_step(span: timedelta, report_interval_s: float = DEFAULT_REPORT_INTERVAL_S) -> int:
    """Seconds per bucket so that `span` needs at most MAX_BUCKETS of them, and each holds a
    reading of every VEN (two report intervals), within the bounds."""
    shortest = max(MIN_STEP_S, ceil(2 * report_interval_s))
    return min(MAX_STEP_S, max(shortest, ceil(span.total_seconds() / MAX_BUCKETS)))


@dataclass(frozen=True)
class Buckets:
    """Readings in [first, end) binned by `step` from `origin`; every bucket before
    `settled_until` is final (the window's end once the event is over and settled)."""

    origin: datetime
    step: timedelta
    first: datetime
    end: datetime
    settled_until: datetime


def buckets(
    *,
    start_time: datetime,
    activated_at: datetime | None,
    end_time: datetime,
    ended_at: datetime | None,
    step_s: int | None,
    start: datetime | None,
    now: datetime,
    before: datetime | None = None,
    report_interval_s: float | None = None,
) -> Buckets:
    """The settled buckets of the event's window that a request asks for (`step_s` None: the
    default; `report_interval_s`: of the event's slowest VEN, None when it has none)."""
    interval = timedelta(seconds=report_interval_s or DEFAULT_REPORT_INTERVAL_S)
    origin, end = activated_at or start_time, ended_at or end_time
    step = timedelta(seconds=step_s or default_step(end - origin, interval.total_seconds()))
    first = origin
    if start is not None and start > origin:
        first += -((origin - start) // step) * step  # the first bucket starting at or after `start`
    due = now - interval  # every reading stamped before this has arrived
    settled = end if due >= end else origin + max(0, (due - origin) // step) * step
    if before is not None:
        # The end of the last bucket that starts before `before`.
        end = min(end, origin + max(0, -((origin - before) // step)) * step)
    return Buckets(origin, step, first, max(first, min(end, settled)), settled)
