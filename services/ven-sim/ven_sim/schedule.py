"""When each VEN reports next: one heap for the whole process, not a sleeping task per VEN.

Entries are (due, index); a VEN whose time changed (setConfig) gets a new entry and the
old one is skipped as stale, because it no longer matches `VenNode.due`.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from ven_sim.fleet import VenNode


class Schedule:
    """Next reading time (event-loop clock) of every online VEN."""

    def __init__(self, nodes: Sequence[VenNode]) -> None:
        self._nodes = nodes
        self._heap: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def start(self, now: float, interval_s: float) -> None:
        """First readings spread over one interval by each VEN's phase (jitter)."""
        for node in self._nodes:
            if node.online:
                self.set(node, now + node.phase * interval_s)

    def set(self, node: VenNode, due: float) -> None:
        node.due = due
        heapq.heappush(self._heap, (due, node.index))

    def next_time(self) -> float | None:
        """Due time of the earliest entry (possibly stale), None when empty."""
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float, limit: int) -> list[tuple[float, VenNode]]:
        """Up to `limit` VENs due at `now`, earliest first, stale entries dropped."""
        heap, nodes = self._heap, self._nodes
        out: list[tuple[float, VenNode]] = []
        while heap and heap[0][0] <= now and len(out) < limit:
            due, index = heapq.heappop(heap)
            node = nodes[index]
            if node.due == due:
                out.append((due, node))
        return out


def next_due(due: float, interval_s: float, now: float) -> tuple[float, int]:
    """(next due time, readings skipped): stay on the VEN's grid, skip slots a full interval late."""
    nxt = due + interval_s
    if nxt >= now - interval_s:
        return nxt, 0
    missed = int((now - nxt) // interval_s)
    return nxt + missed * interval_s, missed
