"""The fact log's batch publishes, on FastStream's in-memory TestKafkaBroker (no Kafka).

The publishers are registered here, not by dispatcher.channels.declare: its subscribers
have no handler, which TestKafkaBroker refuses when a message reaches their topic.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from dispatcher.adapters.fact_log import KafkaFactLog
from dispatcher.channels import APPENDS, declare
from dispatcher.domain.commands import Outgoing
from dispatcher.service.sender import issued_fact
from dispatcher.settings import Settings
from dr_contracts.commands import event_command
from dr_contracts.facts import EventCompleted, decode_fact, new_fact

from .fakes import T0

PARTITIONS = 4


class FakeAdmin:
    """Describes every topic with PARTITIONS partitions; counts the questions."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def describe_topics(self, topics: list[str]) -> list[dict]:
        self.asked.append(topics)
        return [{"topic": t, "partitions": [{"partition": p} for p in range(PARTITIONS)]} for t in topics]


def issued(n: int) -> list:
    out = []
    for i in range(n):
        ven, cid = f"VEN-{i:03d}", f"cid-{i}"
        payload = event_command(
            ven_id=ven, event_id="e1", correlation_id=cid, shed_kw=1.0, start=T0, end=T0 + timedelta(hours=1)
        )
        out.append(issued_fact(Outgoing(cid, ven, "event", "e1", payload), 1, T0))
    return out


@pytest.fixture
def settings() -> Settings:
    return Settings(topic_namespace="unit")


def appends(broker: KafkaBroker, settings: Settings) -> dict:
    names = settings.topics.all()
    return {names[base]: broker.publisher(names[base], batch=True) for base in APPENDS}


def test_declare_registers_every_channel_without_connecting(settings: Settings) -> None:
    broker = KafkaBroker()
    channels = declare(broker, settings)
    assert set(channels.appends) == {settings.topics.dr_events, settings.topics.dr_commands}
    assert len(broker.subscribers) == 2  # the two whole-topic readers


async def test_each_fact_goes_keyed_to_the_partition_send_would_choose(settings: Settings) -> None:
    broker = KafkaBroker()
    publishers = appends(broker, settings)
    got: list[tuple[int, bytes, bytes]] = []

    @broker.subscriber(settings.topics.dr_commands, batch=True)
    async def seen(msg: KafkaMessage) -> None:
        got.extend((r.partition, r.key, r.value) for r in msg.raw_message)  # type: ignore[union-attr]

    admin = FakeAdmin()
    facts = issued(40)
    async with TestKafkaBroker(broker):
        log = KafkaFactLog(publishers, lambda: admin, settings)  # type: ignore[arg-type,return-value]
        await log.append_many(facts)
        await log.append_many(issued(3))

    all_partitions = list(range(PARTITIONS))
    wanted = {f.factId: DefaultPartitioner()(f.key.encode(), all_partitions, all_partitions) for f in facts}
    placed = {decode_fact(value).factId: (partition, key) for partition, key, value in got}
    assert {fid: p for fid, (p, _) in placed.items() if fid in wanted} == wanted
    assert all(key == decode_fact(value).key.encode() for _, key, value in got)
    assert len(set(wanted.values())) > 1  # the facts really spread over partitions
    assert admin.asked == [[settings.topics.dr_commands]]  # partition list asked once per topic


async def test_one_fact_goes_to_its_topic(settings: Settings) -> None:
    broker = KafkaBroker()
    publishers = appends(broker, settings)
    got: list[bytes] = []

    @broker.subscriber(settings.topics.dr_events)
    async def seen(msg: KafkaMessage) -> None:
        got.append(msg.body)

    completed = new_fact(
        EventCompleted(eventId="e1", completedAt=T0, outcome="completed"), fact_id="e1:completed"
    )
    async with TestKafkaBroker(broker):
        await KafkaFactLog(publishers, FakeAdmin, settings).append(completed)  # type: ignore[arg-type]
    assert [decode_fact(raw).factId for raw in got] == ["e1:completed"]
