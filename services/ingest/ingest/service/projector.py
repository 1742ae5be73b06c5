"""The projector: facts from Kafka -> Postgres rows, exactly once, one transaction per batch.

Positions live in Postgres (projection_offsets), not in Kafka: on every assignment the
projector seeks to the stored offsets, and each transaction re-checks them (see
adapters/pg_store.py), so restarts, rebalances, replicas and `rebuild` are all safe.
Kafka I/O is FastStream's: a batch subscriber with manual acks (never committed) hands each
fetched batch to `Projector.project`; dead letters go out through a FastStream publisher.

A record that cannot be applied is either poison (skipped, never lost) or a bug (stop):
- Poison, the bytes are no fact this code knows: not JSON, not an object, an unknown `type`
  or `schemaVersion`, content the fact model refuses. Only dr_contracts says so, by raising
  `Rejected` (see `decode`). The record is dead-lettered to ingest.rejected as a
  PayloadRejected (`kafka:<topic>/<partition>:<offset>`, code, reason, bytes), counted in
  ingest_unreadable_facts_total{topic,code}, and its offset moves only in a transaction after
  Kafka acknowledged the dead letter. Its id is derived from the record's place and bytes:
  a crash in between dead-letters it again under the same id, which projects to one row.
- Poison, a valid fact Postgres refuses on its own (see `_apply`): skipped, counted, logged.
- A bug, anything else: an exception of our own code on a fact the model accepts (the
  telemetry reader on the fact's canonical form, a projection fold), or a failure Postgres
  does not blame on the content.
  The projector logs `projection.failed` and stops with the stored offsets where they were,
  so nothing is skipped and a fixed projector resumes exactly there.

A log shorter than the stored offsets (the broker lost it: a restart of the local in-memory
broker, a topic deleted and re-created) is no bug of a record but the same kind of stop:
`LogLost`, logged as `projection.log_lost`. Carrying on would skip the new log's records
below the stored offsets as "already applied".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.kafka.subscriber.usecase import BatchSubscriber

from dr_contracts import jsonio
from dr_contracts.facts import SCHEMA_VERSION, Fact, TelemetryReported, decode_fact, encode_fact
from dr_contracts.rejection import Rejected
from dr_runtime.outage import Outage
from ingest import metrics
from ingest.adapters.pg_store import Applied, ProjectionStore, Record, Tp
from ingest.domain.intake import reject
from ingest.domain.readings import Reading, reading_from, reading_of
from ingest.service.lag import LagWatch
from ingest.service.retry import Stopping, missing_partition, pause, refused, transient

log = structlog.get_logger(__name__)

#: A record that is no fact, with the reason dr_contracts gave.
Poison = tuple[ConsumerRecord, Rejected]


#: How often `run` compares each owned partition's stored offset with the end of its log.
LOG_CHECK_S = 1.0


class LogLost(RuntimeError):
    """A partition's log ends before the offset stored with the projections."""

    def __init__(self, topic: str, partition: int, stored: int, end: int) -> None:
        super().__init__(
            f"{topic}/{partition} ends at offset {end}, but the projections hold it up to {stored}: "
            "the broker lost its log (a restart of an in-memory broker?). Nothing more is applied: "
            "point KAFKA_BOOTSTRAP_SERVERS at the broker that holds the log, or rebuild the read "
            "model from what the log holds now (`python -m ingest rebuild`)."
        )
        self.where = {"topic": topic, "partition": partition, "stored": stored, "log_end": end}


class Projector:
    """One member of the projector consumer group: the handler of its FastStream batch subscriber.

    FastStream fetches (`getmany`) and calls `project` per batch; the consumer is the
    subscriber's (`subscriber.consumer`), positioned by `SeekToStored` on every assignment.
    FastStream would log a handler's exception and fetch on: a bug is kept in `failure`
    instead, nothing more is applied, and the runner stops and raises it (see `raise_failure`).
    """

    def __init__(
        self,
        subscriber: BatchSubscriber,
        store: ProjectionStore,
        *,
        dead_letters: DefaultPublisher,
        listener: SeekToStored,
        poll_ms: int,
        stall_s: float,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.subscriber = subscriber
        self.store = store
        #: Where poison records go (ingest.rejected), acknowledged before their offsets move.
        self.dead_letters = dead_letters
        self.poll_ms = poll_ms
        #: Next offset this member will apply per assigned partition (None: from the start).
        self.positions: dict[Tp, int | None] = {}
        #: Where the log starts, for partitions assigned with no stored offset (`caught_up`).
        self.starts: dict[Tp, int] = {}
        self.assigned = asyncio.Event()
        #: Between a revocation and the next assignment (the old assignment still shows).
        self.rebalancing = False
        self.stop = stop or asyncio.Event()
        #: The bug that stopped this projector (nothing is applied once it is set).
        self.failure: Exception | None = None
        #: `catch_up` only: per partition, the end of the log to reach before returning.
        self.ends: dict[TopicPartition, int] = {}
        #: Postgres failing transiently: logged when it starts and ends, retried meanwhile.
        self.outage = Outage("postgres", "projector")
        #: How far behind the log each owned partition is (a gauge, and a stall logged).
        self.lag = LagWatch(stall_s)
        #: Loop time the handler entered the current batch (None: between batches).
        self.batch_started: float | None = None
        listener.projector = self

    @property
    def consumer(self) -> AIOKafkaConsumer:
        """The subscriber's aiokafka consumer (FastStream creates it when the broker starts)."""
        consumer = self.subscriber.consumer
        if consumer is None:
            raise RuntimeError("the projector's subscriber is not started")
        return consumer

    async def project(self, batch: Sequence[ConsumerRecord]) -> None:
        """Apply one fetched batch; after a bug or once stopping, apply nothing (it stays unapplied)."""
        if self.failure is not None or self.stop.is_set():
            return
        self.batch_started = asyncio.get_running_loop().time()
        try:
            records, poison = self._records(batch)
            if poison:
                await self._dead_letter(poison)
            if records:
                await self._apply(records)
        except Stopping:
            pass
        except Exception as exc:  # logged as projection.failed where it was raised
            self.failure = exc
            self.stop.set()
        finally:
            self.batch_started = None

    async def run(self, *, catch_up: bool = False) -> None:
        """Until stopped (or a bug); with `catch_up` (rebuild), until the log as it was at start is in.

        Once a second it also checks that no log ends before its stored offset (`LogLost`), and
        updates the lag of each partition (`LagWatch`).
        """
        checked = 0.0
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            if loop.time() - checked >= LOG_CHECK_S:
                checked = loop.time()
                try:
                    self._check_logs()
                except LogLost as lost:
                    self.failure = lost
                    self.stop.set()
                    return
                self._watch_lag(checked)
            if catch_up and await self._caught_up():
                log.info("projection.caught_up", group_id=self.store.group_id, partitions=len(self.ends))
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=self.poll_ms / 1000)

    def raise_failure(self) -> None:
        """Once the subscriber stopped: the bug that stopped the projector, raised (the process exits 1)."""
        if self.failure is not None:
            raise self.failure

    async def _caught_up(self) -> bool:
        """Every partition we own has been applied up to the end it had when first fetched.

        The end is the high watermark of the first fetch response for the partition (Tansu's
        `end_offsets` is wrong, its fetch high watermark is right; both are at least the end
        of the log when the rebuild started). An empty partition's is its start: caught up.
        Applied means committed with the offsets (`positions`), not merely fetched: FastStream
        fetches the next batch while this runs.
        """
        if not self.assigned.is_set() or self.rebalancing:
            return False
        for tp in self.consumer.assignment():  # no await in this loop: the assignment holds
            if tp not in self.ends:
                high = self.consumer.highwater(tp)
                if high is None:
                    return False  # not fetched yet
                self.ends[tp] = high
            key = (tp.topic, tp.partition)
            applied = self.positions.get(key)
            if applied is None:
                applied = self.starts.get(key)
            if applied is None or applied < self.ends[tp]:
                return False
        return True

    def _records(self, batch: Sequence[ConsumerRecord]) -> tuple[list[Record], list[Poison]]:
        """Decode what this member still owns; a poison record stays in as a Record without a fact.

        Any exception but Rejected is a bug: it propagates and nothing of this batch is applied.
        """
        records, poison = [], []
        for rec in batch:
            tp = (rec.topic, rec.partition)
            if tp not in self.positions:
                continue  # revoked while in flight
            stored = self.positions[tp]
            if stored is not None and rec.offset < stored:
                self._check_log(rec.topic, rec.partition, stored)
            fact: Fact | Reading | None = None
            try:
                fact = decode(rec.value or b"")
            except Rejected as rejection:
                poison.append((rec, rejection))
            except Exception as exc:
                self._failed([_place(rec.topic, rec.partition, rec.offset)], exc)
                raise
            records.append(Record(tp, rec.offset, fact))
        return records, poison

    async def _dead_letter(self, poison: list[Poison]) -> None:
        """Produce the dead letters and wait for Kafka's ack (acks=all) before any offset moves.

        A failed produce (after the producer's own retries) propagates: the projector stops with
        the offsets unmoved, as for a bug, and a restarted one dead-letters them again.
        """
        letters = [dead_letter(rec, rejection) for rec, rejection in poison]
        try:
            sent = [
                await self.dead_letters.publish(encode_fact(f), key=f.key.encode(), no_confirm=True)
                for f in letters
            ]
            await asyncio.gather(*sent)
        except Exception as exc:
            self._failed([_place(rec.topic, rec.partition, rec.offset) for rec, _ in poison], exc)
            raise
        for (rec, rejection), letter in zip(poison, letters, strict=True):
            log.error(
                "fact.dead_lettered",
                topic=rec.topic,
                partition=rec.partition,
                offset=rec.offset,
                code=rejection.code,
                reason=rejection.reason[:500],
                fact_id=letter.factId,
            )
            metrics.UNREADABLE.labels(rec.topic, rejection.code).inc()

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
                self._failed(_spans(records), exc)
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
        while True:
            try:
                applied = await self.store.apply(records, dict(self.positions))
            except Exception as exc:
                if not transient(exc):
                    raise
                if missing_partition(exc):
                    self.store.forget_days()
                await pause(self.outage.failed(exc), self.stop)
                continue
            self.outage.recovered()
            return applied

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

    def _check_logs(self) -> None:
        """`_check_log` for every partition this member owns and has a stored offset for."""
        if self.rebalancing or not self.assigned.is_set():
            return
        for (topic, partition), stored in list(self.positions.items()):
            if stored is not None:
                self._check_log(topic, partition, stored)

    def _watch_lag(self, now: float) -> None:
        """Each owned partition's applied offset against its fetch high watermark, to `lag`."""
        if self.rebalancing or not self.assigned.is_set():
            return
        partitions = []
        for tp in self.consumer.assignment():
            key = (tp.topic, tp.partition)
            applied = self.positions.get(key)
            if applied is None:
                applied = self.starts.get(key)
            high = self.consumer.highwater(tp)
            if applied is not None and high is not None:
                partitions.append((key, applied, high))
        started = self.batch_started
        self.lag.observe(now, partitions, None if started is None else now - started)

    def _check_log(self, topic: str, partition: int, stored: int) -> None:
        """Raise LogLost when the partition's log now ends before the stored offset.

        Only a fetch's high watermark tells (Tansu's `end_offsets` is wrong). Kafka answers a
        fetch past the end of a lost log with OffsetOutOfRange, and the consumer, reset to the
        start, fetches the new log's records (checked in `_records`); Tansu answers it with no
        records and the new end as high watermark (checked once a second from `run`).
        """
        end = self.consumer.highwater(TopicPartition(topic, partition))
        if end is not None and end < stored:
            lost = LogLost(topic, partition, stored, end)
            log.error("projection.log_lost", group_id=self.store.group_id, error=str(lost), **lost.where)
            raise lost

    def _failed(self, batch: list[str], exc: Exception) -> None:
        """The bug path's log line: where the projector stopped, and why."""
        log.error("projection.failed", group_id=self.store.group_id, batch=batch, error=repr(exc)[:500])

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


def _place(topic: str, partition: int, offset: int) -> str:
    return f"{topic}/{partition}:{offset}"


def _identity(fact: Fact | Reading | None) -> tuple[str | None, str | None]:
    if isinstance(fact, Reading):
        return fact.fact_id, TelemetryReported.TYPE
    return (fact.factId, fact.type) if fact else (None, None)


def decode(value: bytes) -> Fact | Reading:
    """A record's value -> what is applied: telemetry the quick way (domain/readings.py), the rest by model.

    Rejected (raised by dr_contracts only): the bytes are no fact this code knows, poison.
    Anything else is a bug of ours, e.g. the telemetry reader failing on a fact the model accepts.
    """
    try:
        obj = jsonio.loads(value)
    except ValueError:
        obj = None  # decode_fact says why
    if isinstance(obj, dict):
        _known_version(obj)
        if obj.get("type") == TelemetryReported.TYPE:
            return _reading(obj, value)
    return decode_fact(value)


def _reading(obj: dict[str, Any], value: bytes) -> Reading:
    """The quick reader; where it fails, the fact model judges and the reader gets its canonical form.

    The model (lax, as decode_fact is) accepts forms the bridge never writes, such as `true`
    for a number: those are read from the model's canonical form, not refused. A reader that
    fails on the canonical form of a fact the model accepts is a bug: that raises.
    """
    try:
        return reading_of(obj)
    except Exception:
        fact = decode_fact(value)  # the model refuses it too: Rejected says why (poison)
        return reading_from(fact.payload, fact.factId, fact.occurredAt)  # type: ignore[arg-type]


def _known_version(obj: dict[str, Any]) -> None:
    version = obj.get("schemaVersion", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        message = f"schemaVersion {version!r:.60} is not {SCHEMA_VERSION}, the one this code knows"
        raise Rejected("unknown_schema_version", message, "schemaVersion")


def dead_letter(rec: ConsumerRecord, rejection: Rejected) -> Fact:
    """The PayloadRejected for a poison record; same record, same fact id (see intake.reject)."""
    bounded = Rejected(rejection.code, rejection.message[:1000], (rejection.field or "")[:200] or None)
    appended = datetime.fromtimestamp(rec.timestamp / 1000, UTC)
    return reject(
        f"kafka:{_place(rec.topic, rec.partition, rec.offset)}", rec.value or b"", bounded, appended
    )


class SeekToStored(ConsumerRebalanceListener):
    """On every assignment, continue from the offsets stored with the projections.

    Declared with the subscriber (ingest/channels.py), bound to its Projector at start-up.
    """

    projector: Projector

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
            for tp in fresh:  # positioned by now: where each log starts
                projector.starts[(tp.topic, tp.partition)] = await projector.consumer.position(tp)
        projector.consumer.resume(*assigned)
        projector.rebalancing = False
        projector.assigned.set()
        metrics.READY.set(1)
        log.info("projection.assigned", partitions=len(assigned), stored=len(stored))

    async def _stored(self, tps: list[Tp]) -> dict[Tp, int]:
        outage = self.projector.outage
        while True:
            try:
                stored = await self.projector.store.stored_offsets(tps)
            except Exception as exc:  # aiokafka would only log it: keep trying instead
                await pause(outage.failed(exc), self.projector.stop)
                continue
            outage.recovered()
            return stored
