"""Dependencies that stop answering mid-event: PostgreSQL frozen, then restarted; the Kafka broker frozen.

A frozen server (SIGSTOP, or `docker pause` in the containers backend) keeps its sockets
open and its kernel ACKs every packet, so its clients see no error, only silence: the case
that used to leave every API request hanging. Each fault is timed to hit the event's
commands and acks in flight (the simulator delays its acks by 1-2 s).

While a dependency is frozen or restarting, a prober keeps asking the API what a client
would (readiness, a read of the event, a write: registering a VEN) with a client timeout
of a few seconds. Every request must get an answer: a success, or 503 with `Retry-After`
and a body naming the dependency; `/ready` must say which dependency is down, then turn
ready again by itself. Nothing asserts a duration: a request that hangs past the client
timeout shows as an exception, and that fails the test.

Then, through REST and the simulator: nothing lost and nothing applied twice
(helpers.event_running, helpers.event_finished, Sim.applied_once).
(A Tansu restart loses its in-memory log by design, so the broker is only frozen.)
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.fixtures.platform import OPERATOR_TOKEN
from tests.fixtures.waiting import wait_for

from .helpers import Sim, event_body, event_finished, event_running, online_vens, received, sim_ven_ids

pytestmark = pytest.mark.e2e
VENS = 6
LEAD_S = 3
#: Acks leave the VENs 1-2 s after their command: a fault at the first command hits them in flight.
ACK_DELAY_MS = "1000,2000"
#: A few seconds: the API's bound (docs/api.md) plus room for a loaded machine, far below a hang.
CLIENT_TIMEOUT_S = 5.0
#: Requests of each kind made (and answered or given up) before a fault ends: ~8 s of freeze.
PER_KIND = 6
ANSWERED = {200, 201, 503}


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    """What one request got: an HTTP answer, or the exception of a client that gave up."""

    kind: str
    started: datetime
    status: int | None
    retry_after: str | None = None
    body: str = ""
    error: str = ""

    def problem(self, dependency: str) -> str | None:
        """Why this outcome is not a bounded answer about `dependency` (None: it is)."""
        if self.status not in ANSWERED:
            return self.error or f"HTTP {self.status}"
        if self.status == 503 and (self.retry_after is None or dependency not in self.body.lower()):
            return "503 without Retry-After or without naming " + dependency
        return None


@dataclass
class Prober:
    """Asks the API for readiness, the event, and a VEN registration, each in its own loop."""

    api: httpx.AsyncClient
    event_id: str
    ns: str
    outcomes: list[Outcome] = field(default_factory=list)

    def requests(self) -> dict[str, Callable[[int], Awaitable[httpx.Response]]]:
        return {
            "ready": lambda _: self.api.get("/ready"),
            "read": lambda _: self.api.get(f"/api/events/{self.event_id}"),
            "write": lambda n: self.api.post(
                "/api/vens", json={"name": "probe", "registrationId": f"{self.ns}-probe-{n}"}
            ),
        }

    async def run(self, kind: str, request: Callable[[int], Awaitable[httpx.Response]]) -> None:
        for n in itertools.count():
            started = now()
            try:
                response = await request(n)
            except httpx.HTTPError as exc:
                self.outcomes.append(Outcome(kind, started, None, error=f"{type(exc).__name__}: {exc}"))
            else:
                retry_after = response.headers.get("retry-after")
                self.outcomes.append(
                    Outcome(kind, started, response.status_code, retry_after, response.text[:500])
                )
            await asyncio.sleep(0.2)  # pacing of the requests, not synchronisation

    def since(self, start: datetime) -> list[Outcome]:
        return [o for o in self.outcomes if o.started >= start]

    def enough_since(self, start: datetime) -> bool:
        counts = Counter(o.kind for o in self.since(start))
        return all(counts[kind] >= PER_KIND for kind in self.requests())


@asynccontextmanager
async def probing(api_url: str, event_id: str, ns: str) -> AsyncIterator[Prober]:
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=CLIENT_TIMEOUT_S, headers=operator) as client:
        prober = Prober(client, event_id, ns)
        tasks = [asyncio.create_task(prober.run(k, r)) for k, r in prober.requests().items()]
        try:
            yield prober
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def through_fault(
    begin: Callable[[], Awaitable[None]],
    end: Callable[[], Awaitable[None]],
    prober: Prober,
    dependency: str,
) -> list[Outcome]:
    """`begin` a fault, keep it until the prober made PER_KIND requests of each kind, `end` it
    (always); check every answer got meanwhile, then that the API recovers by itself: `/ready`
    true, a read and a write that succeed. -> the outcomes of the requests made during the fault."""
    start = now()
    try:
        await begin()
        await wait_for(
            lambda: prober.enough_since(start),
            timeout=120,
            message=lambda: (
                f"{PER_KIND} requests of each kind while {dependency} is down: {prober.since(start)}"
            ),
        )
    finally:
        await end()
    ended = now()
    seen = prober.since(start)
    bad = [(o, why) for o in seen if (why := o.problem(dependency)) is not None]
    assert not bad, f"requests while {dependency} was down without a bounded answer: {bad}"

    def recovered() -> bool:
        ok = {(o.kind, o.status) for o in prober.since(ended)}
        return {("ready", 200), ("read", 200), ("write", 201)} <= ok

    await wait_for(
        recovered, timeout=60, message=lambda: f"recovery after {dependency}: {prober.since(ended)}"
    )
    return [o for o in seen if o.started < ended]


def ready_said_down(outcomes: list[Outcome], dependency: str) -> None:
    """`/ready` turned false during the fault, naming the dependency."""
    downs = [o for o in outcomes if o.kind == "ready" and o.status == 503]
    assert downs, f"/ready never said not ready: {outcomes}"
    assert all(f'"{dependency}":"unavailable' in o.body.replace(" ", "") for o in downs), downs


async def frozen_through(infra: Any, part: str, prober: Prober) -> None:
    """Freeze `part` (SIGSTOP / docker pause) through a fault window, then check that `/ready`
    said so meanwhile, naming it."""

    async def freeze() -> None:
        await asyncio.to_thread(infra.freeze, part)

    async def thaw() -> None:
        await asyncio.to_thread(infra.thaw, part)

    ready_said_down(await through_fault(freeze, thaw, prober, part), part)


@dataclass
class InFlight:
    """A running platform and an event whose first command just reached a VEN."""

    platform: Any
    api: httpx.AsyncClient
    sim: Sim
    event_id: str
    requested_kw: float
    ven_ids: list[str]
    since: datetime

    async def running(self) -> None:
        await event_running(
            self.api, self.event_id, self.ven_ids, self.requested_kw, since=self.since, sim=self.sim
        )

    async def finished_once(self) -> None:
        """Nothing lost, nothing applied twice: every command and restore acked and applied once."""
        await event_finished(self.api, self.event_id, self.ven_ids, since=self.since, deadline_s=90)
        await self.sim.applied_once(self.event_id, self.ven_ids)


async def event_with_commands_in_flight(
    platform_factory: Any, api_for: Any, ns: str, duration_s: float
) -> InFlight:
    """An event whose first command just reached a VEN (its acks are 1-2 s away)."""
    platform = platform_factory(VENS, ["--ack-delay-ms", ACK_DELAY_MS])
    api = api_for(platform)
    sim = Sim(platform.sim_url)
    stats = await online_vens(api, VENS)
    since = now()
    created = await api.post(
        "/api/events", json=event_body(LEAD_S, duration_s, kw=0.5 * stats["potentialLoadReductionKw"])
    )
    assert created.status_code == 201, created.text
    body = created.json()
    await sim.until("an event command arrived", lambda s: received(s, "event") >= 1, 60)
    return InFlight(
        platform, api, sim, body["id"], body["requestedReductionKw"], sim_ven_ids(ns, VENS), since
    )


async def test_postgres_frozen_then_restarted_mid_event(platform_factory, api_for, infra, ns: str) -> None:
    run = await event_with_commands_in_flight(platform_factory, api_for, ns, duration_s=55)
    async with probing(run.platform.api_url, run.event_id, ns) as prober:
        await frozen_through(infra, "postgres", prober)
        await run.running()

        async def restart() -> None:  # a clean stop, then the same data on the same port
            await asyncio.to_thread(infra.restart, "postgres")

        async def nothing() -> None:
            return None

        await through_fault(restart, nothing, prober, "postgres")
    await run.finished_once()


async def test_kafka_broker_frozen_mid_event(platform_factory, api_for, infra, ns: str) -> None:
    run = await event_with_commands_in_flight(platform_factory, api_for, ns, duration_s=45)
    async with probing(run.platform.api_url, run.event_id, ns) as prober:
        await frozen_through(infra, "kafka", prober)
    await run.running()
    await run.finished_once()
