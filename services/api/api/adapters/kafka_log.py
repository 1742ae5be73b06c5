"""The fact log on Kafka through FastStream publishers: acks=all, failures become `Unavailable`."""

from __future__ import annotations

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import DefaultPublisher

from api.ports import Position, Unavailable
from dr_contracts.facts import Fact, encode_fact


class KafkaFactLog:
    """Appends facts and answers only after the broker has acknowledged them.

    Each append returns the record's partition and offset (FastStream's publish answers with
    aiokafka's RecordMetadata), which read-your-writes waits for in the projection.
    """

    def __init__(self, broker: KafkaBroker, publishers: dict[str, DefaultPublisher]) -> None:
        self._broker = broker
        self._publishers = publishers

    async def append(self, fact: Fact) -> Position:
        try:
            meta = await self._publishers[fact.payload.TOPIC].publish(
                encode_fact(fact), key=fact.key.encode()
            )
        except (KafkaError, TimeoutError) as exc:
            raise Unavailable(f"Kafka did not acknowledge the write: {type(exc).__name__}") from exc
        return Position(meta.topic, meta.partition, meta.offset)

    async def ping(self) -> None:
        """A metadata round trip to the broker, bounded at 2 s."""
        if not await self._broker.ping(timeout=2):
            raise Unavailable("Kafka unreachable")
