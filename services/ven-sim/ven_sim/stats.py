"""Counters of one simulator process and the telemetry lateness histogram.

Tests and the demo read them through `Simulator.stats` (in process), the HTTP status
surface or the status file; `applied_by_correlation` proves "applied exactly once".
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Upper bounds (s) of the lateness buckets: 0.5 ms to ~66 s, 10 buckets per decade.
BOUNDS: tuple[float, ...] = tuple(0.0005 * 10 ** (i / 10) for i in range(52))


class Histogram:
    """Fixed buckets, O(1) memory: quantiles of telemetry lateness over any window."""

    __slots__ = ("counts", "max", "total")

    def __init__(self) -> None:
        self.counts = array("Q", bytes(8 * (len(BOUNDS) + 1)))
        self.total = 0
        self.max = 0.0

    def add(self, value: float) -> None:
        self.counts[bisect_left(BOUNDS, value)] += 1
        self.total += 1
        if value > self.max:
            self.max = value

    def snapshot(self) -> list[int]:
        """Bucket counts now; subtract two snapshots to get a window."""
        return self.counts.tolist()


def quantile(counts: list[int], q: float) -> float | None:
    """Upper bound of the bucket holding quantile `q` (None when empty; inf past the last)."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        seen += n
        if seen >= rank and n:
            return BOUNDS[i] if i < len(BOUNDS) else float("inf")
    return float("inf")


def window(after: list[int], before: list[int]) -> list[int]:
    return [a - b for a, b in zip(after, before, strict=True)]


@dataclass
class Stats:
    """Totals since start; every field is a plain number (or Counter) for JSON."""

    commands_received: int = 0
    commands_applied: int = 0
    commands_rejected: int = 0
    commands_malformed: int = 0
    commands_ignored: int = 0
    duplicates_answered: int = 0
    acks_sent: int = 0
    acks_dropped: int = 0
    publish_errors: int = 0
    telemetry_sent: int = 0
    telemetry_malformed: int = 0
    telemetry_skipped: int = 0
    events_expired: int = 0
    registered: int = 0
    registration_failed: int = 0
    internal_errors: int = 0
    applied_by_correlation: Counter[str] = field(default_factory=Counter)
    received_by_op: Counter[str] = field(default_factory=Counter)
    lateness: Histogram = field(default_factory=Histogram)

    def totals(self) -> dict[str, Any]:
        """Every counter (not the per-correlationId map) plus lateness quantiles in ms."""
        counts, worst = self.lateness.snapshot(), self.lateness.max
        out: dict[str, Any] = {
            k: v for k, v in vars(self).items() if isinstance(v, int) and not isinstance(v, bool)
        }
        out["received_by_op"] = dict(self.received_by_op)
        out["lateness_ms"] = {
            "count": self.lateness.total,
            "p50": _ms(quantile(counts, 0.5), worst),
            "p99": _ms(quantile(counts, 0.99), worst),
            "max": round(worst * 1000, 1),
        }
        return out


def _ms(bucket_bound_s: float | None, worst_s: float) -> float | None:
    """A quantile in ms: its bucket's upper bound, never above the largest value seen."""
    return None if bucket_bound_s is None else round(min(bucket_bound_s, worst_s) * 1000, 1)
