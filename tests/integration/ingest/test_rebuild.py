"""`rebuild` (drop the projections, replay the topics) gives what the live projection gave."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt
import pytest
from aiokafka import AIOKafkaProducer

from dr_contracts.facts import (
    Allocation,
    CommandIssued,
    EventActivated,
    EventCompleted,
    EventCreated,
    OadrObjectDeleted,
    OadrObjectWritten,
    VenDeleted,
    VenRegistered,
    VenUpdated,
)
from ingest.adapters.pg_store import PROJECTION_TABLES
from ingest.bootstrap import rebuild, running_bridge, running_projector
from ingest.settings import Settings
from tests import samples
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, Worker, append, count, query
from tests.integration.ingest.test_exactly_once import (
    LOADS_PER_READING,
    produce_readings,
    publish_readings,
)

pytestmark = pytest.mark.integration

#: Columns that record when the projector wrote, not what the facts say.
WRITE_TIMES = {"ingested_at", "updated_at"}


async def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table, sorted, without the write-time columns."""
    tables = {}
    for table in PROJECTION_TABLES:
        if table == "projection_offsets":
            continue
        columns = [
            c
            for (c,) in await query(
                settings,
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = %s ORDER BY ordinal_position",
                table,
            )
        ]
        kept = ", ".join(c for c in columns if c not in WRITE_TIMES or table == "events")
        rows = await query(settings, f"SELECT {kept} FROM {table}")
        tables[table] = sorted(rows, key=repr)
    return tables


async def all_projected(settings: Settings, producer_offsets: dict[tuple[str, int], int]) -> bool:
    rows = await query(
        settings,
        "SELECT topic, partition, next_offset FROM projection_offsets WHERE group_id = %s",
        settings.projector_group_id,
    )
    stored = {(t, p): o for t, p, o in rows}
    return all(stored.get(tp, 0) >= end for tp, end in producer_offsets.items())


async def end_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    """Where each partition ends: the live projection has applied everything (Tansu's end_offsets lie)."""
    rows = await query(
        settings,
        "SELECT topic, partition, next_offset FROM projection_offsets WHERE group_id = %s",
        settings.projector_group_id,
    )
    return {(t, p): o for t, p, o in rows}


async def test_rebuild_matches_the_live_projection(
    settings: Settings, mqtt: aiomqtt.Client, producer: AIOKafkaProducer
) -> None:
    eid, t0 = "evt-0000feed", datetime(2026, 1, 1, tzinfo=UTC)
    t = settings.mqtt_topics
    async with running_projector(settings) as live, running_bridge(settings):
        await wait_for(live.assigned.is_set, DEADLINE_S)
        facts = [
            VenRegistered(venId="ven-1", name="One"),
            VenUpdated(venId="ven-2", name="Two"),
            VenDeleted(venId="ven-3"),
            EventCreated(eventId=eid, startTime=t0, endTime=t0 + timedelta(hours=1), requestedReductionKw=4),
            EventActivated(eventId=eid, activatedAt=t0, allocations=[Allocation(venId="ven-1", shedKw=4)]),
            CommandIssued(
                venId="ven-1",
                correlationId="c-1",
                eventId=eid,
                op="event",
                payload={},
                issuedAt=t0,
                attempt=1,
            ),
            EventCompleted(eventId=eid, completedAt=t0 + timedelta(hours=1)),
            OadrObjectWritten(objectType="PROGRAM", objectId="p1", clientId="bl", body={"programName": "a"}),
            OadrObjectWritten(objectType="PROGRAM", objectId="p2", clientId="bl", body={"programName": "b"}),
            OadrObjectWritten(objectType="PROGRAM", objectId="p1", clientId="bl", body={"programName": "c"}),
            OadrObjectDeleted(
                objectType="PROGRAM", objectId="p2", clientId="bl", body={"programName": "b"}, createdAt=t0
            ),
        ]
        await append(producer, settings, *facts)
        await mqtt.publish(t.ack("ven-1"), samples.dumps(samples.ack_b("c-1", event_id=eid)), qos=1)
        await mqtt.publish(t.ack("ven-9"), samples.dumps(samples.ack_a("ven-9", "never-issued")), qos=1)
        await mqtt.publish(t.ack("ven-9"), b"garbage", qos=1)
        await publish_readings(mqtt, settings, 300)
        await wait_for(
            lambda: query(settings, "SELECT 1 FROM ven_telemetry HAVING count(*) = 300"), DEADLINE_S
        )
        await wait_for(lambda: query(settings, "SELECT 1 FROM ingest_rejections"), DEADLINE_S)
        await wait_for(
            lambda: query(settings, "SELECT 1 FROM events WHERE acked_count = 1 AND ended_at IS NOT NULL"),
            DEADLINE_S,
        )
        ends = await end_offsets(settings)
        live_tables = await snapshot(settings)
        assert all(live_tables.values()), "every projection should have rows"

        [(before,)] = await query(settings, "SELECT now()")
        await rebuild(settings)  # the live projector keeps running: it replays too
        await wait_for(lambda: all_projected(settings, ends), DEADLINE_S)
        assert await snapshot(settings) == live_tables
        [(rewritten,)] = await query(settings, "SELECT min(ingested_at) FROM ven_telemetry")
        assert rewritten > before  # every row was written again


async def test_rebuild_of_empty_topics_returns(settings: Settings) -> None:
    await asyncio.wait_for(rebuild(settings), DEADLINE_S)
    assert await count(settings, "events") == await count(settings, "ven_telemetry") == 0


async def test_rebuild_returns_while_telemetry_keeps_coming(
    settings: Settings, producer: AIOKafkaProducer, workers: list[Worker]
) -> None:
    """`python -m ingest rebuild` stops once it has what the log held at its start, new facts or not."""
    n = 3000  # readings 0..n-1: 50 VENs, timestamps before `cutoff`
    cutoff = datetime.fromtimestamp(samples.TS + n // 50 * 5, UTC)
    await produce_readings(producer, settings, n)
    feeding = asyncio.create_task(keep_producing(producer, settings, first=n))
    try:
        replay = Worker("rebuild", settings, "projection.caught_up")
        workers.append(replay)
        assert await replay.exited(60) == 0
        assert not feeding.done(), "telemetry should still be coming in"
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
    [(readings,)] = await query(settings, "SELECT count(*) FROM ven_telemetry WHERE ts < %s", cutoff)
    [(loads,)] = await query(settings, "SELECT count(*) FROM ven_load_samples WHERE ts < %s", cutoff)
    assert (readings, loads) == (n, n * LOADS_PER_READING)  # everything the log held at the start


async def keep_producing(producer: AIOKafkaProducer, settings: Settings, first: int) -> None:
    """VENs that keep reporting: 100 new readings every ~50 ms until cancelled."""
    while True:
        await produce_readings(producer, settings, 100, first=first)
        first += 100
        await asyncio.sleep(0.05)  # pacing the load, not synchronisation
