"""correlationId -> first ack: a re-sent command gets the same ack and is not applied again.

Bounded LRU (an ``OrderedDict``): the oldest correlationId is forgotten past ``maxsize``, so a
retry older than that would be applied again; the platform retries within seconds, so a few
hundred entries per VEN are plenty. Cached acks are returned as stored: treat them as
read-only.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

Ack = dict[str, Any]


class AckCache:
    """Bounded map of correlationId to the first ack payload sent for it."""

    __slots__ = ("_data", "_maxsize")

    def __init__(self, maxsize: int = 256) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self._maxsize = maxsize
        self._data: OrderedDict[str, Ack] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, correlation_id: object) -> bool:
        return correlation_id in self._data

    def get(self, correlation_id: str) -> Ack | None:
        """The first ack for this correlationId (refreshing its recency), or None."""
        ack = self._data.get(correlation_id)
        if ack is not None:
            self._data.move_to_end(correlation_id)
        return ack

    def put(self, correlation_id: str, ack: Ack) -> Ack:
        """Remember ``ack`` unless one is already stored; return the stored (first) one."""
        first = self.get(correlation_id)
        if first is not None:
            return first
        self._data[correlation_id] = ack
        if len(self._data) > self._maxsize:
            self._data.popitem(last=False)
        return ack
