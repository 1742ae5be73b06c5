"""API speed on the local stack: event creations (write + read-your-writes) and event reads.

Starts Tansu and Postgres, seeds 1,000 VENs and 1,000,000 telemetry rows, runs the real
projector and the API (uvicorn) as their own processes, then drives the API over HTTP:
- creations: open loop at CREATE_RATE/s (latency measured from the planned send time);
- reads: GET /api/events/{id} open loop at READ_RATE/s;
- throughput: closed loop, CONCURRENCY clients doing GET /api/events/{id} for a while.
Writes api_create_event_p99_ms, api_get_event_p99_ms, api_requests_per_s.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import psycopg

from bench.results import merge_results, print_table
from dr_infra import LocalStack, ensure_topics, free_port, topic_partitions
from ingest.adapters.migrations import migrate

NAMESPACE = "bench"
VENS = 1_000
READINGS_PER_VEN = 1_000
CREATE_RATE, READ_RATE, PHASE_S = 200, 200, 10.0
CONCURRENCY, THROUGHPUT_S = 32, 10.0

_SEED = f"""
SELECT ingest_ensure_days(ARRAY[current_date - 1, current_date]);
INSERT INTO vens (ven_id, name, source, created_at, last_seen, current_power_kw, shed_power_kw,
                  shed_availability_kw, loads, location_lat, location_lon)
SELECT format('ven-%s', lpad(n::text, 4, '0')), format('Site %s', n), 'api', now(), now(),
       3 + random(), 0, 2.5,
       '[{{"id": "hvac", "type": "hvac", "name": "HVAC", "capacityKw": 3.5,
           "shedCapabilityKw": 1.5, "currentPowerKw": 1.2, "enabled": true}},
         {{"id": "ev", "type": "ev", "name": "EV", "capacityKw": 7.2,
           "shedCapabilityKw": 1.0, "currentPowerKw": 0.5, "enabled": true}}]'::jsonb,
       45 + random(), -122 + random()
FROM generate_series(1, {VENS}) n;
INSERT INTO ven_telemetry (ven_id, ts, used_power_kw, shed_power_kw, baseline_power_kw,
                           battery_soc, received_at)
SELECT format('ven-%s', lpad(n::text, 4, '0')),
       date_trunc('second', now()) - make_interval(secs => 5 * i),
       2 + random() * 3, 0, 3.5, 0.5, now()
FROM generate_series(1, {VENS}) n, generate_series(0, {READINGS_PER_VEN - 1}) i;
ANALYZE;
"""


async def seed(dsn: str) -> None:
    """Schema, then the VENs and the telemetry the reads run against."""
    await migrate(dsn)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(_SEED)


def start_services(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """The projector and the API, each its own process, as in production."""
    full = os.environ | env
    return [
        subprocess.Popen([sys.executable, "-m", "ingest", "projector"], env=full),
        subprocess.Popen([sys.executable, "-m", "api"], env=full),
    ]


async def wait_ready(http: aiohttp.ClientSession, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            async with http.get("/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the API did not become ready")


async def create_event(http: aiohttp.ClientSession, i: int) -> tuple[str, bool]:
    """(event id, answered before the read model caught up)."""
    async with http.post("/api/events", json=_event_body(i)) as response:
        if response.status != 201:
            raise RuntimeError(f"create: {response.status} {await response.text()}")
        return (await response.json())["id"], "X-Read-Model-Behind" in response.headers


async def until_projected(http: aiohttp.ClientSession, deadline_s: float = 60) -> None:
    """The projector joins its group after the API is ready: wait until writes are readable."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if not (await create_event(http, 0))[1]:
            return
    raise RuntimeError("the projector did not catch up")


def _event_body(i: int) -> dict[str, object]:
    start = datetime.now(UTC) + timedelta(hours=1, seconds=i)
    return {
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
        "requestedReductionKw": 10 + i % 50,
    }


async def open_loop(rate: float, seconds: float, call: Callable[[int], Awaitable[None]]) -> list[float]:
    """Send at a fixed rate; each latency counts from its planned start (no coordinated omission)."""
    latencies: list[float] = []
    start = time.perf_counter()

    async def one(i: int, planned: float) -> None:
        await call(i)
        latencies.append(time.perf_counter() - planned)

    tasks = []
    for i in range(int(rate * seconds)):
        planned = start + i / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, planned)))
    await asyncio.gather(*tasks)
    return latencies


async def closed_loop(clients: int, seconds: float, call: Callable[[int], Awaitable[None]]) -> float:
    """Requests per second with `clients` always waiting on a response."""
    done = 0
    end = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal done
        while time.perf_counter() < end:
            await call(n)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return done / (time.perf_counter() - started)


def p99_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2)


async def drive(base_url: str) -> dict[str, float]:
    # aiohttp, not httpx: on two cores the load generator must leave the CPU to the stack.
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(base_url, connector=connector) as http:
        await wait_ready(http)
        await until_projected(http)
        created: list[str] = []
        behind = 0

        async def create(i: int) -> None:
            nonlocal behind
            event_id, late = await create_event(http, i)
            created.append(event_id)
            behind += late

        async def read(_: int) -> None:
            async with http.get(f"/api/events/{random.choice(created)}") as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"read: {response.status}")

        for i in range(50):  # warm-up: connections, prepared statements
            await create(i)
            await read(i)
        behind = 0
        print(f"creations: {CREATE_RATE}/s for {PHASE_S:g}s")
        creates = await open_loop(CREATE_RATE, PHASE_S, create)
        print(f"reads: {READ_RATE}/s for {PHASE_S:g}s")
        reads = await open_loop(READ_RATE, PHASE_S, read)
        print(f"throughput: {CONCURRENCY} clients for {THROUGHPUT_S:g}s")
        rps = await closed_loop(CONCURRENCY, THROUGHPUT_S, read)
    print(f"creations: {len(creates)} ({behind} answered before the read model caught up)")
    for name, latencies in (("create", creates), ("read", reads)):
        print(f"{name}: p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99_ms(latencies)} ms")
    return {
        "api_create_event_p99_ms": p99_ms(creates),
        "api_get_event_p99_ms": p99_ms(reads),
        "api_requests_per_s": round(rps, 1),
    }


def main() -> None:
    with LocalStack(mqtt=False) as stack:
        asyncio.run(ensure_topics(stack.kafka_bootstrap, topic_partitions(NAMESPACE)))
        started = time.perf_counter()
        asyncio.run(seed(stack.pg_dsn))
        print(
            f"seeded {VENS} VENs, {VENS * READINGS_PER_VEN:,} readings in "
            f"{time.perf_counter() - started:.1f}s"
        )
        port = free_port()
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
            "TOPIC_NAMESPACE": NAMESPACE,
            "DATABASE_URL": stack.pg_dsn,
            "API_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        }
        processes = start_services(env)
        try:
            numbers = asyncio.run(drive(f"http://127.0.0.1:{port}"))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=15)
    print_table(numbers)
    merge_results(numbers)


if __name__ == "__main__":
    main()
