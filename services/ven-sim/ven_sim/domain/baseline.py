"""Recent-readings ring buffer and the event baseline (mean of the 5 minutes before start).

Memory is fixed per VEN: two ``array('d')`` of ``capacity`` doubles (1.3 KiB at 80). A sample
closer than ``min_spacing_s`` to the previous one is skipped, so the buffer still spans the
whole window when a VEN reports faster than every 5 s; a sample older than the newest one
(clock going back) is skipped too.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

BASELINE_WINDOW_S = 300.0


class BaselineBuffer:
    """Fixed-size ring of (ts, power_kw) readings."""

    __slots__ = ("_capacity", "_count", "_head", "_kw", "_last_ts", "_min_spacing", "_ts")

    def __init__(self, capacity: int = 80, min_spacing_s: float = 4.0) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._capacity = capacity
        self._min_spacing = min_spacing_s
        self._ts = array("d", bytes(8 * capacity))
        self._kw = array("d", bytes(8 * capacity))
        self._head = 0  # next slot to write
        self._count = 0
        self._last_ts = float("-inf")

    def __len__(self) -> int:
        return self._count

    def add(self, ts: float, power_kw: float) -> bool:
        """Record a reading; False when skipped (too close to, or older than, the last one)."""
        if ts < self._last_ts + self._min_spacing:
            return False
        self._ts[self._head] = ts
        self._kw[self._head] = power_kw
        self._head = (self._head + 1) % self._capacity
        if self._count < self._capacity:
            self._count += 1
        self._last_ts = ts
        return True

    def mean_between(self, start_ts: float, end_ts: float) -> float | None:
        """Mean power of readings with start_ts <= ts < end_ts; None when there are none."""
        ts, kw, head, cap = self._ts, self._kw, self._head, self._capacity
        # Timestamps increase along the ring (add() refuses older ones), so each of its (at
        # most two) ordered segments can be bisected and summed in C.
        segments = ((0, self._count),) if self._count < cap else ((head, cap), (0, head))
        total = 0.0
        n = 0
        for lo, hi in segments:
            a = bisect_left(ts, start_ts, lo, hi)
            b = bisect_left(ts, end_ts, a, hi)
            if b > a:
                total += sum(kw[a:b])
                n += b - a
        return total / n if n else None

    def baseline(
        self, event_start_ts: float, current_kw: float, window_s: float = BASELINE_WINDOW_S
    ) -> float:
        """Mean of readings in the window before ``event_start_ts``, else ``current_kw``."""
        mean = self.mean_between(event_start_ts - window_s, event_start_ts)
        return current_kw if mean is None else mean

    def readings(self) -> list[tuple[float, float]]:
        """Stored readings, oldest first (for tests and debugging)."""
        start = (self._head - self._count) % self._capacity
        idx = [(start + i) % self._capacity for i in range(self._count)]
        return [(self._ts[i], self._kw[i]) for i in idx]
