"""Partition ownership from a consumer group, without consuming through it.

The group consumer's partitions are paused: it only holds membership, and the
rebalance callbacks tell the dispatcher what it owns. The records themselves are read
by the group-less LogReader, which every replica runs over the whole topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

log = structlog.get_logger()


class PartitionLease(ConsumerRebalanceListener):
    """Calls `on_assigned(partitions)` (as a task) and awaits `on_revoked(partitions)`."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topic: str,
        on_assigned: Callable[[set[int]], Coroutine[Any, Any, None]],
        on_revoked: Callable[[set[int]], Coroutine[Any, Any, None]],
    ) -> None:
        self.consumer, self.topic = consumer, topic
        self._on_assigned, self._on_revoked = on_assigned, on_revoked
        self._takeover: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([self.topic], listener=self)

    async def stop(self) -> None:
        await self._cancel_takeover()
        await self.consumer.stop()

    async def run(self) -> None:
        """Keep the membership alive; nothing is fetched from paused partitions."""
        while True:
            await self.consumer.getmany(timeout_ms=1000)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._cancel_takeover()
        parts = {tp.partition for tp in revoked}
        if parts:
            log.info("lease.revoked", topic=self.topic, partitions=sorted(parts))
            await self._on_revoked(parts)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.consumer.pause(*assigned)
        parts = {tp.partition for tp in assigned}
        log.info("lease.assigned", topic=self.topic, partitions=sorted(parts))
        # Not awaited here: catching up may take longer than a rebalance should.
        self._takeover = asyncio.create_task(self._on_assigned(parts))

    async def _cancel_takeover(self) -> None:
        task, self._takeover = self._takeover, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
