"""The fact log on Kafka through FastStream publishers: acks=all, failures become `Unavailable`."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import DefaultPublisher

from api.ports import Position, Unavailable
from dr_contracts.facts import Fact, encode_fact


class KafkaFactLog:
    """Appends facts and answers only after the broker has acknowledged them.

    Each append returns the record's partition and offset (FastStream's publish answers with
    aiokafka's RecordMetadata), which read-your-writes waits for in the projection.
    Both calls wait at most `answer_timeout_s`: a broker that does not answer (frozen, cut
    off) costs the request a 503 rather than the producer's whole retry budget. A write that
    timed out may still land once the broker answers again (its outcome is unknown).
    """

    def __init__(
        self, broker: KafkaBroker, publishers: dict[str, DefaultPublisher], answer_timeout_s: float
    ) -> None:
        self._broker = broker
        self._publishers = publishers
        self._answer_timeout_s = answer_timeout_s

    async def append(self, fact: Fact) -> Position:
        try:
            async with asyncio.timeout(self._answer_timeout_s):
                meta = await self._publishers[fact.payload.TOPIC].publish(
                    encode_fact(fact), key=fact.key.encode()
                )
        except TimeoutError as exc:
            raise Unavailable(
                f"Kafka did not acknowledge the write within {self._answer_timeout_s:g} s"
            ) from exc
        except KafkaError as exc:
            raise Unavailable(f"Kafka did not acknowledge the write: {type(exc).__name__}") from exc
        return Position(meta.topic, meta.partition, meta.offset)

    async def ping(self) -> None:
        """A metadata round trip to the broker, bounded like a write."""
        if not await self._broker.ping(timeout=self._answer_timeout_s):
            raise Unavailable("Kafka did not answer")
