"""The fact log on Kafka: one producer per process, acks=all, failures become `Unavailable`."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from api.ports import Position, Unavailable
from dr_contracts.facts import Fact
from dr_runtime.kafka import send_fact
from dr_runtime.settings import KafkaSettings


class KafkaFactLog:
    """Appends facts and answers only after the broker has acknowledged them."""

    def __init__(self, producer: AIOKafkaProducer, settings: KafkaSettings) -> None:
        self._producer = producer
        self._settings = settings

    async def append(self, fact: Fact) -> Position:
        try:
            meta = await send_fact(self._producer, self._settings, fact)
        except KafkaError as exc:
            raise Unavailable(f"Kafka did not acknowledge the write: {type(exc).__name__}") from exc
        return Position(meta.topic, meta.partition, meta.offset)

    async def ping(self) -> None:
        """A metadata round trip to the broker."""
        try:
            async with asyncio.timeout(2):
                await self._producer.client.fetch_all_metadata()
        except (KafkaError, TimeoutError) as exc:
            raise Unavailable(f"Kafka unreachable: {type(exc).__name__}") from exc
