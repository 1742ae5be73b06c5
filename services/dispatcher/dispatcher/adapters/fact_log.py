"""Appending facts to Kafka (acks=all): one awaited, or many sharing batches."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from dr_contracts.facts import Fact
from dr_runtime.kafka import send_fact, send_facts
from dr_runtime.settings import KafkaSettings


class KafkaFactLog:
    def __init__(self, producer: AIOKafkaProducer, settings: KafkaSettings) -> None:
        self.producer, self.settings = producer, settings

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def append(self, fact: Fact) -> None:
        await send_fact(self.producer, self.settings, fact)

    async def append_many(self, facts: Sequence[Fact]) -> None:
        if facts:
            await send_facts(self.producer, self.settings, list(facts))
