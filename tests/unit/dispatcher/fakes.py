"""Hand-written fakes of the dispatcher's ports, and a clock the test moves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dispatcher.domain.allocation import Candidate
from dr_contracts import jsonio
from dr_contracts.facts import Fact

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeFactLog:
    facts: list[Fact] = field(default_factory=list)
    fail: bool = False

    async def append(self, fact: Fact) -> None:
        if self.fail:
            raise ConnectionError("kafka down")
        self.facts.append(fact)

    async def append_many(self, facts: Sequence[Fact]) -> None:
        for fact in facts:
            await self.append(fact)

    def of_type(self, kind: str) -> list[Fact]:
        return [f for f in self.facts if f.type == kind]


@dataclass
class FakeSink:
    """Records every publish; VENs in `down` never get theirs acknowledged by the broker."""

    published: list[tuple[str, dict]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> list[bool]:
        out = []
        for topic, raw in messages:
            payload = jsonio.loads(raw)
            self.published.append((topic, payload))
            out.append(payload["venId"] not in self.down)
        return out

    def ops(self, op: str) -> list[dict]:
        return [p for _, p in self.published if p["op"] == op]


@dataclass
class FakeVens:
    """`vens` read model: venId -> capability (None: unknown); `online` when untargeted."""

    registered: dict[str, float | None] = field(default_factory=dict)
    online: list[str] | None = None
    queries: int = 0

    async def candidates(self, ven_ids: Sequence[str] | None) -> tuple[list[Candidate], list[str]]:
        self.queries += 1
        if ven_ids is None:
            ids = self.online if self.online is not None else list(self.registered)
            return [Candidate(v, self.registered[v]) for v in ids], []
        found = [Candidate(v, self.registered[v]) for v in ven_ids if v in self.registered]
        return found, [v for v in ven_ids if v not in self.registered]
