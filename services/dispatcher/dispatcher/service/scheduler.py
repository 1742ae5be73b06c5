"""Keyed wake-ups at wall-clock times: one heap, one waiter, no polling on a tick."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class DueQueue(Generic[K]):
    """Keys with a due time (Unix seconds); `due()` sleeps until the earliest is due.

    Putting a key again moves it; stale heap entries are skipped when popped.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, K]] = []
        self._when: dict[K, float] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._when)

    def __contains__(self, key: object) -> bool:
        return key in self._when

    def put(self, key: K, when: float) -> None:
        """Wake for `key` at `when` (replacing its previous time)."""
        if self._when.get(key) == when:
            return
        self._when[key] = when
        heapq.heappush(self._heap, (when, next(self._seq), key))
        if self._heap[0][2] == key:
            self._wake.set()

    def discard(self, key: K) -> None:
        self._when.pop(key, None)

    def clear(self) -> None:
        self._when.clear()
        self._heap.clear()

    def pop_due(self) -> list[K]:
        """Every key due now, earliest first (removed from the queue)."""
        now = self._clock()
        out: list[K] = []
        while self._heap and self._heap[0][0] <= now:
            when, _, key = heapq.heappop(self._heap)
            if self._when.get(key) == when:
                del self._when[key]
                out.append(key)
        return out

    def next_due(self) -> float | None:
        """The earliest live due time, dropping stale entries on the way."""
        while self._heap and self._when.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    async def due(self) -> list[K]:
        """Wait until at least one key is due; return all that are."""
        while True:
            ready = self.pop_due()
            if ready:
                return ready
            self._wake.clear()
            nxt = self.next_due()
            delay = None if nxt is None else max(nxt - self._clock(), 0.0)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
