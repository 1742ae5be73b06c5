"""In-memory stand-ins for the API's ports (Kafka log, read model, projection watch)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from api.bootstrap import Adapters
from api.ports import Position, Unavailable, VenRef
from api.settings import Settings
from dr_contracts.facts import Fact


@dataclass
class FakeFactLog:
    facts: list[Fact] = field(default_factory=list)
    down: bool = False

    async def append(self, fact: Fact) -> Position:
        if self.down:
            raise Unavailable("Kafka did not acknowledge the write: KafkaTimeoutError")
        self.facts.append(fact)
        return Position("fake", 0, len(self.facts) - 1)

    async def ping(self) -> None:
        if self.down:
            raise Unavailable("Kafka unreachable")

    def types(self) -> list[str]:
        return [f.type for f in self.facts]


@dataclass
class FakeRegistry:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    vens: dict[str, VenRef] = field(default_factory=dict)

    async def event(self, event_id: str) -> dict[str, Any] | None:
        return self.events.get(event_id)

    async def ven(self, ven_id: str) -> VenRef | None:
        return self.vens.get(ven_id)

    async def unknown_vens(self, ven_ids: list[str]) -> list[str]:
        return [v for v in ven_ids if v not in self.vens or self.vens[v].deleted]

    async def ping(self) -> None:
        return None

    def add_ven(self, ven_id: str, source: str = "api", deleted: bool = False) -> None:
        self.vens[ven_id] = VenRef(ven_id, source, deleted)

    def add_event(self, event_id: str, status: str) -> None:
        self.events[event_id] = {
            "id": event_id,
            "status": status,
            "startTime": "2030-01-01T10:00:00Z",
            "endTime": "2030-01-01T11:00:00Z",
            "requestedReductionKw": 5.0,
            "actualReductionKw": 0.0,
        }


@dataclass
class FakeQueries:
    """Only what write endpoints read back: a VEN by id."""

    registry: FakeRegistry

    async def ven(self, ven_id: str) -> dict[str, Any] | None:
        ref = self.registry.vens.get(ven_id)
        if ref is None or ref.deleted:
            return None
        return {
            "id": ven_id,
            "name": "fake",
            "status": "offline",
            "location": None,
            "createdAt": "2030-01-01T00:00:00Z",
            "lastSeen": None,
            "loads": [],
            "metrics": {
                "currentPowerKw": None,
                "shedAvailabilityKw": None,
                "activeEventId": None,
                "shedLoadIds": [],
            },
        }


@dataclass
class FakeWatch:
    caught_up: bool = True

    async def wait_past(self, position: Position, timeout: float) -> bool:  # noqa: ASYNC109
        return self.caught_up


@dataclass
class Fakes:
    facts: FakeFactLog = field(default_factory=FakeFactLog)
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    watch: FakeWatch = field(default_factory=FakeWatch)

    @asynccontextmanager
    async def adapters(self, _: Settings) -> AsyncIterator[Adapters]:
        yield Adapters(self.facts, self.registry, FakeQueries(self.registry), self.watch)  # type: ignore[arg-type]
