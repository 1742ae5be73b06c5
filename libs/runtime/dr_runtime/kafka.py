"""Kafka clients configured the one way the platform needs them.

acks=all without idempotence (Tansu and some managed brokers lack InitProducerId):
consumers are idempotent instead. Consumers start from `earliest` and commit only
after their effect is durable, never relying on `latest`/end offsets.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from dr_contracts.facts import Fact, encode_fact
from dr_runtime.settings import KafkaSettings


def make_producer(settings: KafkaSettings, **overrides: Any) -> AIOKafkaProducer:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": settings.kafka_linger_ms,
        "max_batch_size": settings.kafka_max_batch_size,
        "request_timeout_ms": 15000,
    }
    return AIOKafkaProducer(**(options | overrides))


def make_consumer(
    settings: KafkaSettings, *topics: str, group_id: str | None, **overrides: Any
) -> AIOKafkaConsumer:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "max_poll_interval_ms": 300_000,
    }
    return AIOKafkaConsumer(*topics, **(options | overrides))


def fact_topic(settings: KafkaSettings, fact: Fact) -> str:
    """The concrete topic (namespace applied) a fact belongs to."""
    return settings.topics.of(fact.payload.TOPIC)


async def send_fact(producer: AIOKafkaProducer, settings: KafkaSettings, fact: Fact) -> RecordMetadata:
    """Append one fact and wait until the broker has acknowledged it (acks=all)."""
    return await producer.send_and_wait(fact_topic(settings, fact), encode_fact(fact), key=fact.key.encode())
