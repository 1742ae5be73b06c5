"""Ingest's FastStream channels on FastStream's in-memory TestKafkaBroker (no Kafka)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.specification import AsyncAPI

from dr_contracts.facts import VenRegistered, encode_fact, new_fact
from dr_runtime.brokers import kafka_broker
from ingest.adapters.pg_store import Applied, Record, Tp
from ingest.channels import ProjectorChannels, declare, projected_topics, projector_channels
from ingest.service.projector import Projector
from ingest.settings import Settings

pytestmark = pytest.mark.unit

SETTINGS = Settings(topic_namespace="unit")


class Batches:
    """Stands for the Projector: keeps what the subscriber hands it."""

    def __init__(self) -> None:
        self.batches: list[Sequence[ConsumerRecord]] = []

    async def project(self, batch: Sequence[ConsumerRecord]) -> None:
        self.batches.append(batch)


class BuggyStore:
    """A store whose projection code has a bug: every apply raises."""

    group_id = "projector-unit"

    def __init__(self) -> None:
        self.applied: list[list[Record]] = []

    async def apply(self, records: list[Record], expected: dict[Tp, int | None]) -> Applied:
        self.applied.append(records)
        raise KeyError("a bug in the projection code")


@pytest.fixture
async def broker() -> AsyncIterator[tuple[KafkaBroker, ProjectorChannels]]:
    broker = kafka_broker(SETTINGS, client_id="unit")
    channels = projector_channels(broker, SETTINGS)
    async with TestKafkaBroker(broker):
        yield broker, channels


def registered(ven_id: str) -> bytes:
    return encode_fact(new_fact(VenRegistered(venId=ven_id, name=ven_id)))


async def test_the_subscriber_hands_the_projector_every_topics_records_undecoded(
    broker: tuple[KafkaBroker, ProjectorChannels],
) -> None:
    kafka, channels = broker
    seen = Batches()
    channels.listener.projector = seen  # type: ignore[assignment]
    topics = projected_topics(SETTINGS.topics)
    for topic in topics:
        await kafka.publish(b"not json", topic, key=b"k")
    records = [rec for batch in seen.batches for rec in batch]
    assert [(r.topic, r.value, r.key) for r in records] == [(t, b"not json", b"k") for t in topics]


def started(channels: ProjectorChannels, store: Any, topic: str) -> Projector:
    """A Projector bound to the channels, owning partition 0 of `topic` as after an assignment."""
    projector = Projector(
        channels.facts,
        store,
        dead_letters=channels.dead_letters,
        listener=channels.listener,
        poll_ms=10,
        stall_s=15,
    )
    projector.positions[(topic, 0)] = None
    return projector


async def test_a_bug_stops_the_projector_applies_nothing_more_and_is_raised_at_the_end(
    broker: tuple[KafkaBroker, ProjectorChannels],
) -> None:
    kafka, channels = broker
    topic, store = SETTINGS.topics.ven_registry, BuggyStore()
    projector = started(channels, store, topic)
    await kafka.publish(registered("ven-1"), topic)  # FastStream would log the exception and go on
    assert isinstance(projector.failure, KeyError) and projector.stop.is_set()
    await kafka.publish(registered("ven-2"), topic)
    assert [[r.offset for r in batch] for batch in store.applied] == [[0]]  # not ven-2: stopped
    with pytest.raises(KeyError, match="a bug in the projection code"):
        projector.raise_failure()


async def test_a_stopping_projector_applies_nothing(broker: tuple[KafkaBroker, ProjectorChannels]) -> None:
    kafka, channels = broker
    topic, store = SETTINGS.topics.ven_registry, BuggyStore()
    projector = started(channels, store, topic)
    projector.stop.set()
    await kafka.publish(registered("ven-1"), topic)
    assert store.applied == [] and projector.failure is None
    projector.raise_failure()  # nothing to raise


def test_the_document_shows_every_channel_ingest_runs() -> None:
    kafka = KafkaBroker("kafka:9092")
    declare(kafka, SETTINGS)
    spec = AsyncAPI(kafka, schema_version="3.0.0").to_specification().to_jsonable()
    addresses = sorted({channel["address"] for channel in spec["channels"].values()})
    t = SETTINGS.topics
    assert addresses == sorted({*projected_topics(t), t.ven_acks, t.ven_telemetry, t.ingest_rejected})
    sends = sorted(name for name, op in spec["operations"].items() if op["action"] == "send")
    assert sends == [
        "bridge -> ingest.rejected",
        "bridge -> ven.acks",
        "bridge -> ven.telemetry",
        "projector -> ingest.rejected",
    ]
