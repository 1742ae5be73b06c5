"""What the API needs from the outside world, as Protocols with real and fake implementations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dr_contracts.facts import Fact


@dataclass(frozen=True)
class Position:
    """Where a fact landed in the log."""

    topic: str
    partition: int
    offset: int


class FactLog(Protocol):
    """The Kafka log: append one fact, return once the broker has acknowledged it (acks=all)."""

    async def append(self, fact: Fact) -> Position: ...

    async def ping(self) -> None: ...


class Unavailable(Exception):
    """A backing service (Kafka, Postgres) cannot be reached: HTTP 503, nothing written."""


class ProjectionWatch(Protocol):
    """How far the projector has got: lets a write wait until its fact is readable."""

    async def wait_past(self, position: Position, timeout: float) -> bool: ...  # noqa: ASYNC109


@dataclass(frozen=True)
class VenRef:
    """What a write needs to know about an existing VEN id."""

    ven_id: str
    source: str
    deleted: bool


class Registry(Protocol):
    """Read-model lookups that decide whether a write is allowed."""

    async def event(self, event_id: str) -> dict[str, Any] | None:
        """The event as `GET /api/events` shows it (camelCase keys), or None."""
        ...

    async def ven(self, ven_id: str) -> VenRef | None: ...

    async def unknown_vens(self, ven_ids: list[str]) -> list[str]:
        """Those of `ven_ids` that are not registered (or deleted), in the given order."""
        ...

    async def ping(self) -> None: ...


@dataclass(frozen=True)
class Page:
    """`limit` rows after skipping `offset` (limit already capped)."""

    limit: int
    offset: int = 0


@dataclass(frozen=True)
class Window:
    """A half-open time range [start, end)."""

    start: datetime
    end: datetime
