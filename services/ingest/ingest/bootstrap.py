"""The one place where ingest's clients are created and its workers assembled.

`running_projector` and `running_bridge` run a worker for the length of an `async with`
block (other services' tests use them); the CLI uses the same builders. The projector runs
on a FastStream broker (its channels: ingest/channels.py); the bridge's MQTT side stays on
aiomqtt (see adapters/mqtt_source.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from dr_runtime.brokers import kafka_broker
from dr_runtime.kafka import make_producer
from ingest.adapters.migrations import migrate
from ingest.adapters.mqtt_source import Subscription
from ingest.adapters.pg_store import ProjectionStore
from ingest.channels import projector_channels
from ingest.service.bridge import Bridge
from ingest.service.projector import Projector
from ingest.service.retention import keep_retention
from ingest.settings import Settings

STOP_TIMEOUT_S = 15.0


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


@contextlib.asynccontextmanager
async def started_projector(
    settings: Settings, store: ProjectionStore, stop: asyncio.Event | None = None
) -> AsyncIterator[Projector]:
    """The projector's broker started (it joins its group) for the block, stopped after it.

    The broker's graceful stop lets the batch in hand finish (a stopping projector applies
    nothing more); then a bug that stopped the projector is raised, so the process exits 1.
    """
    broker = kafka_broker(settings, client_id=f"ingest-projector-{settings.projector_group_id}")
    channels = projector_channels(broker, settings)
    projector = Projector(
        channels.facts,
        store,
        dead_letters=channels.dead_letters,
        listener=channels.listener,
        poll_ms=settings.projector_poll_ms,
        stall_s=settings.projector_stall_s,
        stop=stop,
    )
    await broker.start()
    try:
        yield projector
    finally:
        projector.stop.set()
        await broker.stop()
    projector.raise_failure()


async def project(
    settings: Settings, store: ProjectionStore, stop: asyncio.Event | None = None, *, catch_up: bool = False
) -> None:
    """Run the projector until stopped or a bug (raised); with `catch_up`, until caught up.

    A running projector (not a rebuild) also drops telemetry partitions past their horizon.
    """
    async with started_projector(settings, store, stop) as projector:
        retention = None if catch_up else asyncio.create_task(keep_retention(settings, projector.stop))
        try:
            await projector.run(catch_up=catch_up)
        finally:
            if retention is not None:
                retention.cancel()
                await asyncio.gather(retention, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_projector(settings: Settings) -> AsyncIterator[Projector]:
    """The projector running for the block; the schema is migrated before this yields."""
    async with projection_store(settings) as store, started_projector(settings, store) as projector:
        yield projector


@contextlib.asynccontextmanager
async def bridge(settings: Settings, stop: asyncio.Event | None = None) -> AsyncIterator[Bridge]:
    """A bridge with its Kafka producer started (and stopped after the block).

    The producer is aiokafka's, not a FastStream publisher (ingest/channels.py declares the
    bridge's channels for the AsyncAPI document): FastStream's `publish(no_confirm=True)` cost
    the bridge ~80 us more CPU per reading (280 -> 360 us, bench.ingest back to back), and
    its two headers per record (content-type, correlation_id) cost the projector ~40 more.
    """
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
        await project(settings, store, stop, catch_up=True)
