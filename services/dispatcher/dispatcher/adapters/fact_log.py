"""Appending facts to Kafka (acks=all) through the FastStream batch publishers of dispatcher.channels.

Facts (one EventActivated, or a fan-out chunk of 1000 CommandIssued) are grouped by
partition with aiokafka's DefaultPartitioner, as `send` would place them by key, and each
group goes out as one batch publish to that partition: one Kafka batch per partition
(FastStream's batch publish takes one partition and has no partitioner). The dispatcher
needs no record metadata back: an append returns once every batch is acknowledged, or raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaResponse
from faststream.kafka.exceptions import BatchBufferOverflowException
from faststream.kafka.publisher.usecase import BatchPublisher

from dr_contracts.facts import Fact, encode_fact
from dr_runtime.kafka import fact_topic
from dr_runtime.settings import KafkaSettings


class KafkaFactLog:
    """`publishers`: concrete topic -> its batch publisher; `admin()`: the broker's admin client
    (it exists once the broker is connected), which tells partition lists."""

    def __init__(
        self,
        publishers: Mapping[str, BatchPublisher],
        admin: Callable[[], AIOKafkaAdminClient],
        settings: KafkaSettings,
    ) -> None:
        self.publishers, self.admin, self.settings = publishers, admin, settings
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}

    async def append(self, fact: Fact) -> None:
        await self.append_many([fact])

    async def append_many(self, facts: Sequence[Fact]) -> None:
        groups: dict[tuple[str, int], list[KafkaResponse]] = {}
        for fact in facts:
            topic, key = fact_topic(self.settings, fact), fact.key.encode()
            partitions = self._partitions.get(topic) or await self._partitions_of(topic)
            partition = self._partitioner(key, partitions, partitions)
            groups.setdefault((topic, partition), []).append(KafkaResponse(encode_fact(fact), key=key))
        outcomes = await asyncio.gather(
            *(self._publish_batches(t, p, msgs) for (t, p), msgs in groups.items()), return_exceptions=True
        )  # every batch is awaited, so no failure goes unretrieved; the first one is raised
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _publish_batches(self, topic: str, partition: int, messages: list[KafkaResponse]) -> None:
        """One batch, or as many as the producer's batch size needs (FastStream does not split)."""
        while messages:
            try:
                await self.publishers[topic].publish(*messages, partition=partition)
                return
            except BatchBufferOverflowException as full:  # raised before anything is sent
                fits = max(full.message_position, 1)
                await self.publishers[topic].publish(*messages[:fits], partition=partition)
                messages = messages[fits:]

    async def _partitions_of(self, topic: str) -> list[int]:
        """The topic's partition ids, asked once (partitions are never removed)."""
        (described,) = await self.admin().describe_topics([topic])
        self._partitions[topic] = sorted(p["partition"] for p in described["partitions"])
        return self._partitions[topic]
