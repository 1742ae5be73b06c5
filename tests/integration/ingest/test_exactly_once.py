"""Crashes, restarts and replicas: every reading stored exactly once, none lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiomqtt
import pytest
from aiokafka import AIOKafkaProducer

from dr_contracts.facts import encode_fact
from dr_runtime.kafka import fact_topic
from ingest.bootstrap import running_bridge, running_projector
from ingest.domain.intake import intake
from ingest.settings import Settings
from tests import samples
from tests.fixtures.infra import Infra
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, Worker, count, query, wait_rows

pytestmark = pytest.mark.integration

LOADS_PER_READING = 3  # samples.telemetry has three circuits


def reading(i: int, vens: int = 50) -> bytes:
    return samples.dumps(samples.telemetry(f"ven-{i % vens}", samples.TS + (i // vens) * 5))


async def produce_readings(producer: AIOKafkaProducer, settings: Settings, n: int, first: int = 0) -> None:
    """Put readings first..first+n-1 on Kafka as the bridge would (quicker than MQTT)."""
    now, topics = datetime.now(UTC), settings.mqtt_topics
    futures = []
    for i in range(first, first + n):
        fact = intake(topics.metering, reading(i), now, topics)
        futures.append(
            await producer.send(fact_topic(settings, fact), encode_fact(fact), key=fact.key.encode())
        )
    await asyncio.gather(*futures)


async def publish_readings(
    mqtt: aiomqtt.Client, settings: Settings, n: int, per_s: float = 1000, first: int = 0
) -> None:
    """Publish readings first..first+n-1 (QoS 1) at about `per_s`; the broker acknowledges each."""
    end = first + n
    for start in range(first, end, 100):
        await asyncio.gather(
            *(
                mqtt.publish(settings.mqtt_topics.metering, reading(i), qos=1)
                for i in range(start, min(end, start + 100))
            )
        )
        await asyncio.sleep(100 / per_s)  # pacing the load, not synchronisation


async def assert_stored_once(settings: Settings, n: int) -> None:
    await wait_rows(settings, "ven_telemetry", n, timeout=60)
    await wait_rows(settings, "ven_load_samples", n * LOADS_PER_READING)
    [(distinct,)] = await query(settings, "SELECT count(DISTINCT (ven_id, ts)) FROM ven_telemetry")
    assert distinct == n


async def test_projector_killed_mid_batch_resumes_exactly_once(
    settings: Settings, producer: AIOKafkaProducer, workers: list[Worker]
) -> None:
    n = 5000
    await produce_readings(producer, settings, n)
    first = Worker("projector", settings, "projection.assigned", PROJECTOR_MAX_BATCH="100")
    workers.append(first)
    await first.started()
    await wait_for(lambda: count(settings, "ven_telemetry"), DEADLINE_S)
    first.kill()
    stored_at_kill = await count(settings, "ven_telemetry")
    assert 0 < stored_at_kill < n, "the projector should have been killed mid-stream"
    second = Worker("projector", settings, "projection.assigned")
    workers.append(second)
    await assert_stored_once(settings, n)
    [(applied,)] = await query(
        settings,
        "SELECT sum(next_offset) FROM projection_offsets WHERE topic = %s",
        settings.topics.ven_telemetry,
    )
    assert applied == n  # every record applied once, offsets at the end of each partition
    assert second.stop() == 0  # SIGTERM: a clean exit


async def test_postgres_restart_while_readings_flow(
    settings: Settings, mqtt: aiomqtt.Client, infra: Infra
) -> None:
    n = 3000
    async with running_projector(settings), running_bridge(settings):
        flowing = asyncio.create_task(publish_readings(mqtt, settings, n))
        await wait_for(lambda: count(settings, "ven_telemetry"), DEADLINE_S)
        await asyncio.to_thread(infra.restart, "postgres")
        await flowing
        await assert_stored_once(settings, n)


async def test_two_bridges_and_two_projectors_store_each_reading_once(
    settings: Settings, mqtt: aiomqtt.Client
) -> None:
    n = 2000
    other = settings.model_copy(update={"bridge_client_id": f"{settings.bridge_client_id}-2"})
    async with (
        running_projector(settings) as p1,
        running_projector(settings) as p2,
        running_bridge(settings) as b1,
        running_bridge(other) as b2,
    ):
        await wait_for(
            lambda: p1.positions and p2.positions, DEADLINE_S, message="both projectors own partitions"
        )
        await publish_readings(mqtt, settings, n, per_s=2000)
        await assert_stored_once(settings, n)
        assert b1.forwarded > 0 and b2.forwarded > 0
        assert b1.forwarded + b2.forwarded == n


async def test_bridge_killed_loses_nothing_it_acknowledged(
    settings: Settings, mqtt: aiomqtt.Client, workers: list[Worker]
) -> None:
    """The broker keeps what the bridge did not PUBACK (persistent session) and redelivers it."""
    n = 3000
    bridge = Worker("bridge", settings, "bridge.subscribed")
    workers.append(bridge)
    await bridge.started()
    async with running_projector(settings):
        flowing = asyncio.create_task(publish_readings(mqtt, settings, n, per_s=1500))
        await wait_for(
            lambda: count(settings, "ven_telemetry"),
            DEADLINE_S,
            message=lambda: "nothing stored; bridge log:\n" + "".join(bridge.log[-20:]),
        )
        bridge.kill()
        await flowing  # the broker acknowledged every one: it queues them for the session
        assert await count(settings, "ven_telemetry") < n
        again = Worker("bridge", settings, "bridge.subscribed")
        workers.append(again)
        await assert_stored_once(settings, n)
        assert again.stop() == 0  # SIGTERM: a clean exit
