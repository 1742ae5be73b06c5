"""The API in-process over ASGI, against the real broker, Postgres and ingest's projector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from api.bootstrap import create_app
from api.settings import Settings
from dr_contracts.facts import FactPayload, new_fact
from dr_contracts.topics import KafkaTopics
from dr_runtime.kafka import make_consumer, make_producer
from ingest.bootstrap import running_projector
from ingest.settings import Settings as IngestSettings
from tests.fixtures.kafka_facts import send_facts
from tests.fixtures.waiting import wait_for

#: Writes wait this long for the projector: generous, so a loaded machine does not flake.
RYW_TIMEOUT_S = 20.0


@pytest.fixture
def api_settings(kafka_bootstrap: str, kafka_topics: KafkaTopics, pg_db: str) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_namespace=kafka_topics.namespace,
        database_url=pg_db,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        read_your_writes_timeout_s=RYW_TIMEOUT_S,
        max_reduction_kw=10_000,
    )


@pytest.fixture
async def projector(api_settings: Settings) -> AsyncIterator[None]:
    """Ingest's projector (it migrates the schema), joined to its group before tests start."""
    settings = IngestSettings(
        kafka_bootstrap_servers=api_settings.kafka_bootstrap_servers,
        topic_namespace=api_settings.topic_namespace,
        database_url=api_settings.database_url,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        telemetry_retention_every_s=0,  # 2023 readings (tests/samples.py) are past retention
    )
    async with running_projector(settings) as running:
        await wait_for(running.assigned.is_set, 30, message="projector never got its partitions")
        yield


@asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """One API replica (its own producer and pool), driven over ASGI."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
async def api(api_settings: Settings, projector: None) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(api_settings) as client:
        yield client


@pytest.fixture
def publish(api_settings: Settings) -> Callable[..., Awaitable[None]]:
    """Append facts other services would write (dispatcher, ingest bridge)."""

    async def send(*payloads: FactPayload) -> None:
        producer = make_producer(api_settings)
        await producer.start()
        try:
            await send_facts(producer, api_settings, [new_fact(p) for p in payloads])
        finally:
            await producer.stop()

    return send


async def count_records(settings: Settings, *topics: str) -> int:
    """Every record in `topics`, read from the beginning by a fresh, group-less consumer."""
    consumer = make_consumer(settings, *topics, group_id=None)
    await consumer.start()
    try:
        total, idle = 0, 0
        while idle < 2:  # every write was acknowledged before this runs: two empty polls = end
            batch = await consumer.getmany(timeout_ms=500)
            total += sum(len(records) for records in batch.values())
            idle = 0 if batch or not consumer.assignment() else idle + 1
        return total
    finally:
        await consumer.stop()


def write_topics(settings: Settings) -> tuple[str, str, str]:
    """The topics the API appends to."""
    t = settings.topics
    return t.dr_events, t.ven_registry, t.dr_commands
