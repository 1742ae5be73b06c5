"""Produce and consume through the session's Kafka-protocol broker (Tansu locally)."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata

from dr_contracts.facts import VenDeleted, decode_fact, new_fact
from dr_contracts.topics import DEFAULT_PARTITIONS, DR_COMMANDS, KafkaTopics
from dr_infra import ensure_topics, topic_partitions
from dr_infra.kafka_admin import kafka_metadata
from dr_runtime.kafka import make_producer
from dr_runtime.settings import KafkaSettings
from dr_runtime.topics_admin import TopicSetupError, ensure_platform_topics
from dr_runtime.topics_admin import ensure_topics as ensure_topics_strictly
from tests.fixtures.kafka_facts import send_facts
from tests.fixtures.waiting import wait_for

# Keeps group joins at ~1 s instead of 5 s (docs/infrastructure.md).
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}


def producer(bootstrap: str) -> AIOKafkaProducer:
    # Tansu has no idempotent producer: acks=all without idempotence.
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)


def consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **FAST_GROUP,
    )


async def drain(c: AIOKafkaConsumer, into: list, count: int, within: float = 20.0) -> None:
    async def have_all() -> bool:
        for records in (await c.getmany(timeout_ms=200)).values():
            into.extend(records)
        return len(into) >= count

    await wait_for(have_all, timeout=within, message=lambda: f"got {len(into)} of {count}")


@pytest.mark.unit
def test_topic_partitions_maps_concrete_names_to_counts() -> None:
    parts = topic_partitions("tabc", overrides={DR_COMMANDS: 2})
    names = KafkaTopics("tabc").all()
    assert parts == {names[base]: (2 if base == DR_COMMANDS else n) for base, n in DEFAULT_PARTITIONS.items()}
    assert topic_partitions() == DEFAULT_PARTITIONS
    with pytest.raises(ValueError, match="unknown"):
        topic_partitions(overrides={"nope": 1})


@pytest.mark.integration
async def test_kafka_topics_fixture_creates_every_topic(
    kafka_bootstrap: str, kafka_topics: KafkaTopics
) -> None:
    listed = set(await kafka_metadata(kafka_bootstrap))
    assert set(kafka_topics.all().values()) <= listed
    # Idempotent: creating them again is fine.
    await ensure_topics(kafka_bootstrap, topic_partitions(kafka_topics.namespace))


@pytest.mark.integration
async def test_services_create_missing_topics_with_the_configured_counts(
    kafka_bootstrap: str, ns: str
) -> None:
    settings = KafkaSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=ns, kafka_topic_partitions={"ven.acks": 3}
    )
    await ensure_platform_topics(settings)
    await ensure_platform_topics(settings)  # idempotent
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(settings.topic_partitions))
    finally:
        await admin.close()
    assert {t["topic"]: len(t["partitions"]) for t in described} == settings.topic_partitions
    assert settings.topic_partitions[f"ven.acks.{ns}"] == 3
    # A topic that exists with another count: a service starts anyway (operators may have
    # changed it on purpose), the local runner and the tests refuse it.
    other = {**settings.topic_partitions, f"ven.acks.{ns}": 5}
    clash = KafkaSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=ns, kafka_topic_partitions={"ven.acks": 5}
    )
    with structlog.testing.capture_logs() as logs:
        await ensure_platform_topics(clash, timeout=5)
    assert {"event": "topic.partitions_differ", "topic": f"ven.acks.{ns}", "configured": 5, "found": 3} in [
        {k: e.get(k) for k in ("event", "topic", "configured", "found")} for e in logs
    ]
    with pytest.raises(TopicSetupError, match=f"ven.acks.{ns}"):
        await ensure_topics_strictly(kafka_bootstrap, other, timeout=5)


@pytest.mark.integration
async def test_send_facts_batches_per_partition_and_reports_each_record(
    kafka_bootstrap: str, ns: str
) -> None:
    settings = KafkaSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=ns)
    await ensure_platform_topics(settings)
    facts = [new_fact(VenDeleted(venId=f"ven-{i % 13}")) for i in range(700)]
    prod = make_producer(settings, max_batch_size=4096)  # forces several batches per partition
    await prod.start()
    try:
        metas = await send_facts(prod, settings, facts)
        alone = await prod.send_and_wait(settings.topics.ven_registry, b"{}", key=b"ven-3")
    finally:
        await prod.stop()
    by_key = {f.key: m.partition for f, m in zip(facts, metas, strict=True)}
    assert by_key["ven-3"] == alone.partition  # the partition `send` would have chosen
    c = AIOKafkaConsumer(
        settings.topics.ven_registry, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await c.start()
    try:
        got: list = []
        await drain(c, got, len(facts) + 1)
    finally:
        await c.stop()
    stored = {(r.partition, r.offset): decode_fact(r.value).factId for r in got if r.value != b"{}"}
    assert stored == {(m.partition, m.offset): f.factId for f, m in zip(facts, metas, strict=True)}


@pytest.mark.integration
async def test_keyed_produce_group_consume_commit_and_resume(
    kafka_bootstrap: str, kafka_topics: KafkaTopics, ns: str
) -> None:
    topic = kafka_topics.dr_commands  # 8 partitions
    group = f"g-{ns}"
    sent: list[tuple[bytes, bytes, RecordMetadata]] = []

    prod = producer(kafka_bootstrap)
    await prod.start()
    try:
        for i in range(60):
            key, value = f"ven-{i % 7}".encode(), f"first-{i}".encode()
            sent.append((key, value, await prod.send_and_wait(topic, value, key=key)))

        # Keyed partitioning: every record of one key lands in one partition.
        partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
        for key, _, md in sent:
            partitions_of_key[key].add(md.partition)
        assert all(len(p) == 1 for p in partitions_of_key.values())
        assert len({md.partition for _, _, md in sent}) > 1

        c1 = consumer(kafka_bootstrap, topic, group)
        await c1.start()
        try:
            got: list = []
            await drain(c1, got, len(sent))
            assert sorted(r.value for r in got) == sorted(v for _, v, _ in sent)
            # Per-key order is kept.
            for key in partitions_of_key:
                assert [r.value for r in got if r.key == key] == [v for k, v, _ in sent if k == key]
            async with asyncio.timeout(10):  # commit() can loop forever if the broker lost it
                await c1.commit()
            expected_next: dict[int, int] = defaultdict(int)
            for _, _, md in sent:
                expected_next[md.partition] = max(expected_next[md.partition], md.offset + 1)
            for partition, next_offset in expected_next.items():
                assert await c1.committed(TopicPartition(topic, partition)) == next_offset
        finally:
            await c1.stop()

        second = []
        for i in range(14):
            key, value = f"ven-{i % 7}".encode(), f"second-{i}".encode()
            second.append(await prod.send_and_wait(topic, value, key=key))
    finally:
        await prod.stop()

    # Same group, new member: resumes after the committed offsets (nothing old re-read).
    c2 = consumer(kafka_bootstrap, topic, group)
    await c2.start()
    try:
        got2: list = []
        await drain(c2, got2, len(second))
        assert sorted(r.value for r in got2) == sorted(f"second-{i}".encode() for i in range(14))
        async with asyncio.timeout(10):
            await c2.commit()
        for md in second:
            assert await c2.committed(TopicPartition(topic, md.partition)) >= md.offset + 1
    finally:
        await c2.stop()
