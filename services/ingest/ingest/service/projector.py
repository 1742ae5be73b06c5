"""The projector: facts from Kafka -> Postgres rows, exactly once, one transaction per batch.

Positions live in Postgres (projection_offsets), not in Kafka: on every assignment the
projector seeks to the stored offsets, and each transaction re-checks them (see
adapters/pg_store.py), so restarts, rebalances, replicas and `rebuild` are all safe.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import IllegalStateError
from aiokafka.structs import ConsumerRecord

from dr_contracts import jsonio
from dr_contracts.facts import Fact, TelemetryReported, decode_fact
from ingest import metrics
from ingest.adapters.pg_store import Applied, ProjectionStore, Record, Tp
from ingest.domain.readings import Reading, reading_of
from ingest.service.retry import Stopping, missing_partition, pause, refused, transient

log = structlog.get_logger(__name__)


class Projector:
    """One member of the projector consumer group."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        store: ProjectionStore,
        topics: list[str],
        *,
        max_batch: int,
        poll_ms: int,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.consumer = consumer
        self.store = store
        self.topics = topics
        self.max_batch = max_batch
        self.poll_ms = poll_ms
        #: Next offset this member will apply per assigned partition (None: from the start).
        self.positions: dict[Tp, int | None] = {}
        self.assigned = asyncio.Event()
        #: Between a revocation and the next assignment (the old assignment still shows).
        self.rebalancing = False
        self.stop = stop or asyncio.Event()
        #: `catch_up` only: per partition, the end of the log to reach before returning.
        self.ends: dict[TopicPartition, int] = {}

    async def run(self, *, catch_up: bool = False) -> None:
        """Project until stopped; with `catch_up` (rebuild), until the log as it was at start is applied."""
        self.consumer.subscribe(self.topics, listener=_SeekToStored(self))
        await self.consumer.start()
        try:
            while not self.stop.is_set():
                data = await self.consumer.getmany(timeout_ms=self.poll_ms, max_records=self.max_batch)
                records = self._records(data)
                if records:
                    await self._apply(records)
                if catch_up and await self._caught_up():
                    log.info("projection.caught_up", group_id=self.store.group_id, partitions=len(self.ends))
                    return
        except Stopping:
            pass
        finally:
            await self.consumer.stop()

    async def _caught_up(self) -> bool:
        """Every partition we own has been applied up to the end it had when first fetched.

        The end is the high watermark of the first fetch response for the partition (Tansu's
        `end_offsets` is wrong, its fetch high watermark is right; both are at least the end
        of the log when the rebuild started). An empty partition's is its start: caught up.
        """
        if not self.assigned.is_set() or self.rebalancing:
            return False
        try:
            for tp in self.consumer.assignment():
                if tp not in self.ends:
                    high = self.consumer.highwater(tp)
                    if high is None:
                        return False  # not fetched yet
                    self.ends[tp] = high
                if await self.consumer.position(tp) < self.ends[tp]:
                    return False
        except IllegalStateError:
            return False  # revoked while we looked: ask again after the next poll
        return True

    def _records(self, data: dict[TopicPartition, list[ConsumerRecord]]) -> list[Record]:
        """Decode what this member still owns; an unreadable record is skipped, not fatal."""
        out = []
        for tp, batch in data.items():
            if (tp.topic, tp.partition) not in self.positions:
                continue  # revoked while in flight
            for rec in batch:
                out.append(Record((tp.topic, tp.partition), rec.offset, _decode(rec)))
        return out

    async def _apply(self, records: list[Record]) -> None:
        """Apply a batch; one Postgres refuses for its content is split until the refused fact is found.

        Any other failure (a bug, see retry.refused) propagates: the projector stops with the
        batch unapplied and the stored offsets before it, so a fixed projector resumes there.
        """
        try:
            applied = await self._transact(records)
        except Stopping:
            raise
        except Exception as exc:
            if not refused(exc):
                log.error(
                    "projection.failed",
                    group_id=self.store.group_id,
                    batch=_spans(records),
                    error=repr(exc)[:500],
                )
                raise
            if len(records) > 1:
                middle = len(records) // 2
                await self._apply(records[:middle])
                await self._apply(records[middle:])
                return
            await self._skip(records[0], exc)
            return
        await self._advance(applied, records)

    async def _transact(self, records: list[Record]) -> Applied:
        attempt = 0
        while True:
            try:
                return await self.store.apply(records, dict(self.positions))
            except Exception as exc:
                if not transient(exc):
                    raise
                if missing_partition(exc):
                    self.store.forget_days()
                log.warning("projection.retry", error=str(exc)[:300], attempt=attempt)
                await pause(attempt, self.stop)
                attempt += 1

    async def _skip(self, record: Record, exc: Exception) -> None:
        """A fact Postgres refuses on its own: log it loudly, count it, move past it."""
        fact_id, fact_type = _identity(record.fact)
        log.error(
            "fact.poison",
            topic=record.tp[0],
            partition=record.tp[1],
            offset=record.offset,
            fact_id=fact_id,
            type=fact_type,
            error=str(exc)[:500],
        )
        metrics.POISON.labels(record.tp[0]).inc()
        skipped = Record(record.tp, record.offset, None)
        await self._advance(await self._transact([skipped]), [skipped])

    async def _advance(self, applied: Applied, records: list[Record]) -> None:
        for tp, offset in applied.positions.items():
            if tp in self.positions:
                self.positions[tp] = offset
        for tp, stored in applied.moved.items():
            if tp in self.positions:
                log.info("projection.moved", topic=tp[0], partition=tp[1], stored=stored)
                self.positions[tp] = stored
                await self._seek(TopicPartition(*tp), stored)
        counts = Counter(r.tp[0] for r in records if r.fact is not None and r.tp in applied.positions)
        for topic, count in counts.items():
            metrics.PROJECTED.labels(topic).inc(count)

    async def _seek(self, tp: TopicPartition, offset: int | None) -> None:
        if offset is None:
            await self.consumer.seek_to_beginning(tp)
        else:
            self.consumer.seek(tp, offset)


def _spans(records: list[Record]) -> list[str]:
    """`topic/partition:first-last` per partition of a batch, for the log line of a failure."""
    spans: dict[Tp, tuple[int, int]] = {}
    for r in records:
        first, _ = spans.get(r.tp, (r.offset, r.offset))
        spans[r.tp] = (first, r.offset)
    return [f"{t}/{p}:{first}-{last}" for (t, p), (first, last) in spans.items()]


def _identity(fact: Fact | Reading | None) -> tuple[str | None, str | None]:
    if isinstance(fact, Reading):
        return fact.fact_id, TelemetryReported.TYPE
    return (fact.factId, fact.type) if fact else (None, None)


def _decode(record: ConsumerRecord) -> Fact | Reading | None:
    """Telemetry the quick way (see domain/readings.py), every other fact with its model."""
    try:
        obj = jsonio.loads(record.value)
        if isinstance(obj, dict) and obj.get("type") == TelemetryReported.TYPE:
            return reading_of(obj)
        return decode_fact(record.value)
    except Exception as exc:
        log.warning(
            "fact.unreadable",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=str(exc)[:300],
        )
        metrics.UNREADABLE.labels(record.topic).inc()
        return None


class _SeekToStored(ConsumerRebalanceListener):
    """On every assignment, continue from the offsets stored with the projections."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.projector.rebalancing = True
        metrics.READY.set(0)
        for tp in revoked:
            self.projector.positions.pop((tp.topic, tp.partition), None)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        projector = self.projector
        # Nothing may be consumed from these partitions before they are positioned.
        projector.consumer.pause(*assigned)
        stored = await self._stored([(tp.topic, tp.partition) for tp in assigned])
        fresh = []
        for tp in assigned:
            offset = stored.get((tp.topic, tp.partition))
            projector.positions[(tp.topic, tp.partition)] = offset
            if offset is None:
                fresh.append(tp)
            else:
                projector.consumer.seek(tp, offset)
        if fresh:  # one call: each call waits for a round of the fetcher
            await projector.consumer.seek_to_beginning(*fresh)
        projector.consumer.resume(*assigned)
        projector.rebalancing = False
        projector.assigned.set()
        metrics.READY.set(1)
        log.info("projection.assigned", partitions=len(assigned), stored=len(stored))

    async def _stored(self, tps: list[Tp]) -> dict[Tp, int]:
        attempt = 0
        while True:
            try:
                return await self.projector.store.stored_offsets(tps)
            except Exception as exc:  # aiokafka would only log it: keep trying instead
                log.warning("projection.offsets_unavailable", error=str(exc)[:300])
                await pause(attempt, self.projector.stop)
                attempt += 1
