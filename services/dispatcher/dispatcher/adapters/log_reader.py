"""Read whole topics from the beginning, without a consumer group, and know when caught up.

Every replica folds every record (see service.dispatcher), so there is nothing to commit.
The consumer is a FastStream subscriber without a handler and without a group
(dispatcher.channels): FastStream builds, starts and stops it, and aiokafka assigns it
every partition. This class polls it itself, because FastStream's batch loop never
reports an empty poll (it sleeps instead), and `sync` is defined by one.
"Caught up" = every partition has a high watermark from a fetch and our position reached
it; `sync()` additionally waits for an empty poll that began after the call, so that facts
appended before a rebalance are folded before the new owner decides anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream.kafka.subscriber.usecase import LogicSubscriber

from dispatcher.adapters.consumers import started_consumer

log = structlog.get_logger()

Handler = Callable[[list[ConsumerRecord[bytes, bytes]]], None]


class LogReader:
    """A group-less subscriber over `topics`, feeding each fetched batch to `handler`."""

    def __init__(
        self,
        subscriber: LogicSubscriber[Any],
        topics: list[str],
        handler: Handler,
        name: str,
        poll_ms: int = 200,
    ) -> None:
        self.subscriber, self.topics, self.handler = subscriber, topics, handler
        self.name, self.poll_ms = name, poll_ms
        self.caught_up_once = asyncio.Event()
        self._polls = 0
        self._idle_poll = -1
        self._caught_up_poll = -1
        self._progress = asyncio.Condition()

    @property
    def consumer(self) -> AIOKafkaConsumer:
        return started_consumer(self.subscriber)

    async def run(self) -> None:
        """Poll forever; hand every batch (in partition order) to the handler."""
        read = 0
        while True:
            self._polls += 1
            poll = self._polls
            batches = await self.consumer.getmany(timeout_ms=self.poll_ms, max_records=10_000)
            for records in batches.values():
                self.handler(records)
                read += len(records)
            if not await self._caught_up():
                continue
            if not self.caught_up_once.is_set():
                log.info("log.caught_up", reader=self.name, records=read)
                self.caught_up_once.set()
            async with self._progress:
                self._caught_up_poll = poll
                if not batches:
                    self._idle_poll = poll
                self._progress.notify_all()

    async def sync(self, strict: bool = True) -> None:
        """Return once every record appended before this call has been handled.

        `strict`: wait for a poll begun after the call that found nothing new (exact, but a
        busy log may never be idle). Otherwise a poll begun after the call that left us at
        the high watermarks is enough (which may predate a record appended just before).
        """
        wanted = self._polls + 1
        async with self._progress:
            if strict:
                await self._progress.wait_for(lambda: self._idle_poll >= wanted)
            else:
                await self._progress.wait_for(lambda: self._caught_up_poll >= wanted)

    async def _caught_up(self) -> bool:
        assigned = self.consumer.assignment()
        if not assigned or any(self.consumer.partitions_for_topic(t) is None for t in self.topics):
            return False
        for tp in assigned:
            high = self.consumer.highwater(tp)
            if high is None or await self.consumer.position(tp) < high:
                return False
        return True
