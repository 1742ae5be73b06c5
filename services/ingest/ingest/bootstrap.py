"""The one place where ingest's clients are created and its workers assembled.

`running_projector` and `running_bridge` run a worker as an asyncio task for the length
of an `async with` block (other services' tests use them); the CLI uses the same builders.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from dr_runtime.kafka import make_consumer, make_producer
from ingest.adapters.migrations import migrate
from ingest.adapters.mqtt_source import Subscription
from ingest.adapters.pg_store import ProjectionStore
from ingest.service.bridge import Bridge
from ingest.service.projector import Projector
from ingest.settings import Settings

STOP_TIMEOUT_S = 15.0


def projected_topics(settings: Settings) -> list[str]:
    """Every topic the projector group consumes."""
    t = settings.topics
    return [t.dr_events, t.ven_registry, t.dr_commands, t.ven_acks, t.ven_telemetry, t.ingest_rejected]


@contextlib.asynccontextmanager
async def projection_store(settings: Settings) -> AsyncIterator[ProjectionStore]:
    """Migrate the schema, then a pool-backed store for the projector group."""
    await migrate(settings.database_url)
    pool = AsyncConnectionPool(
        settings.database_url,
        min_size=1,
        max_size=3,
        open=False,
        timeout=10,
        check=AsyncConnectionPool.check_connection,
    )
    await pool.open(wait=True, timeout=30)
    try:
        store = ProjectionStore(pool, settings.projector_group_id)
        await store.prepare(datetime.now(UTC).date())
        yield store
    finally:
        await pool.close()


def build_projector(
    settings: Settings, store: ProjectionStore, stop: asyncio.Event | None = None
) -> Projector:
    consumer = make_consumer(
        settings,
        group_id=settings.projector_group_id,
        fetch_max_wait_ms=settings.projector_fetch_wait_ms,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    return Projector(
        consumer,
        store,
        projected_topics(settings),
        max_batch=settings.projector_max_batch,
        poll_ms=settings.projector_poll_ms,
        stop=stop,
    )


@contextlib.asynccontextmanager
async def running_projector(settings: Settings) -> AsyncIterator[Projector]:
    """The projector as a task; the schema is migrated before this yields."""
    async with projection_store(settings) as store:
        projector = build_projector(settings, store)
        task = asyncio.create_task(projector.run(), name="ingest-projector")
        try:
            yield projector
        finally:
            projector.stop.set()
            await _finish(task)


@contextlib.asynccontextmanager
async def bridge(settings: Settings, stop: asyncio.Event | None = None) -> AsyncIterator[Bridge]:
    """A bridge with its Kafka producer started (and stopped after the block)."""
    producer = make_producer(settings, linger_ms=settings.bridge_linger_ms)
    await producer.start()
    try:
        yield Bridge(settings, producer, lambda: Subscription(settings), stop)
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def running_bridge(settings: Settings) -> AsyncIterator[Bridge]:
    """The bridge as a task; yields once it is subscribed (messages from then on are its)."""
    async with bridge(settings) as bridge_:
        task = asyncio.create_task(bridge_.run(), name="ingest-bridge")
        try:
            await _until(bridge_.subscribed, task)
            yield bridge_
        finally:
            bridge_.stop.set()
            await _finish(task)


async def _until(event: asyncio.Event, task: asyncio.Task[None], timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Wait for `event`, failing early if the task died."""
    waiter = asyncio.create_task(event.wait())
    done, _ = await asyncio.wait({waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task in done:
        task.result()
        raise RuntimeError("worker stopped before it was ready")
    if waiter not in done:
        raise TimeoutError(f"worker not ready within {timeout:.0f}s")


async def _finish(task: asyncio.Task[None]) -> None:
    """Let the worker stop cleanly; cancel it if it takes too long."""
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=STOP_TIMEOUT_S)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def rebuild(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Empty the projections, replay every topic from the start, return once caught up.

    Caught up: every partition this member owns is applied up to where the log ended when the
    rebuild began, so it returns while VENs keep reporting. Projector replicas that are
    running notice the reset (their stored offsets are gone) and replay from the start too;
    they can keep running, and they finish the partitions they own.
    Only what Kafka still retains comes back: older telemetry rows are gone after a rebuild.
    """
    async with projection_store(settings) as store:
        await store.reset()
        await build_projector(settings, store, stop).run(catch_up=True)
