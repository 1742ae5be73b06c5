"""The projector's Postgres side: a batch of facts and its offsets in one transaction.

Exactly once: the stored `next_offset` of each partition is locked and compared with
where this projector believes it is. Only partitions that agree are applied; for the
others (another replica got there first, or `rebuild` reset them) nothing is written
and the caller is told where to seek. A retried transaction therefore never applies a
fact twice, whatever failed and whenever.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import structlog
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from dr_contracts.facts import Fact, OadrObjectWritten
from ingest.adapters.pg_ack_tally import AckTally
from ingest.adapters.pg_commands import write_commands
from ingest.adapters.pg_events import write_events, write_registry
from ingest.adapters.pg_layouts import LoadLayouts
from ingest.adapters.pg_oadr import write_oadr_objects
from ingest.adapters.pg_writes import (
    columns,
    write_readings,
    write_rejections,
    write_ven_metrics,
)
from ingest.domain.batch import Batch
from ingest.domain.readings import Layout, Reading
from ingest.domain.reports import readings_of_report

log = structlog.get_logger(__name__)

Tp = tuple[str, int]

#: Every table `rebuild` empties (offsets included: everything is replayed). `load_layouts`
#: stays: its rows never change and running projectors cache their ids (pg_layouts.py).
PROJECTION_TABLES = (
    "events",
    "event_vens",
    "vens",
    "ven_commands",
    "ven_acks",
    "ven_telemetry",
    "ven_telemetry_1m",
    "ven_telemetry_15m",
    "ingest_rejections",
    "oadr_objects",
    "projection_offsets",
)


@dataclass(frozen=True)
class Record:
    """One consumed Kafka record; `fact` is None for a skipped one (poison: only its offset moves)."""

    tp: Tp
    offset: int
    fact: Fact | Reading | None


@dataclass
class Applied:
    """What a transaction did: new positions, and partitions to seek elsewhere."""

    positions: dict[Tp, int] = field(default_factory=dict)
    moved: dict[Tp, int | None] = field(default_factory=dict)


class ProjectionStore:
    """Writes projections for one consumer group."""

    def __init__(self, pool: AsyncConnectionPool, group_id: str) -> None:
        self.pool = pool
        self.group_id = group_id
        self._days: set[date] = set()
        self.layouts = LoadLayouts()

    async def prepare(self, today: date) -> None:
        """Create the partitions around today ahead of time, off the write path."""
        days = {today + timedelta(days=d) for d in (-1, 0, 1)}
        async with self.pool.connection() as conn:
            await ensure_days(conn, days)
        self._days |= days

    async def stored_offsets(self, tps: Iterable[Tp]) -> dict[Tp, int]:
        """Next offset to apply per partition (absent: nothing applied yet)."""
        tps = sorted(tps)
        async with self.pool.connection() as conn:
            cursor = await conn.execute(_SELECT_OFFSETS, [self.group_id, *columns(tps, 2)])
            return {(t, p): o for t, p, o in await cursor.fetchall()}

    async def apply(self, records: list[Record], expected: dict[Tp, int | None]) -> Applied:
        """Apply `records` (log order per partition) where `expected` matches the store."""
        async with self.pool.connection() as conn:
            await self._ensure_days(conn, records)
            await self.layouts.ensure(conn, _layouts(records))
            async with conn.transaction():
                return await self._apply(conn, records, expected)

    async def _apply(
        self, conn: AsyncConnection, records: list[Record], expected: dict[Tp, int | None]
    ) -> Applied:
        tps = sorted({r.tp for r in records})
        cursor = await conn.execute(_LOCK_OFFSETS, [self.group_id, *columns(tps, 2)])
        stored: dict[Tp, int] = {(t, p): o for t, p, o in await cursor.fetchall()}
        applied = Applied()
        batch = Batch()
        for record in records:
            if stored.get(record.tp) != expected.get(record.tp):
                applied.moved[record.tp] = stored.get(record.tp)
                continue
            start = expected.get(record.tp)
            if start is not None and record.offset < start:
                continue
            applied.positions[record.tp] = record.offset + 1
            if record.fact is not None:
                batch.add(record.fact)
        await write_batch(conn, batch, self.layouts.ids)
        await self._write_offsets(conn, applied.positions, stored)
        return applied

    async def _write_offsets(
        self, conn: AsyncConnection, positions: dict[Tp, int], stored: dict[Tp, int]
    ) -> None:
        new = sorted((t, p, o) for (t, p), o in positions.items() if (t, p) not in stored)
        known = sorted((t, p, o) for (t, p), o in positions.items() if (t, p) in stored)
        if new:  # a plain INSERT: a replica racing for the same partition fails and retries
            await conn.execute(_INSERT_OFFSETS, [self.group_id, *columns(new, 3)])
        if known:
            await conn.execute(_UPDATE_OFFSETS, [*columns(known, 3), self.group_id])

    async def _ensure_days(self, conn: AsyncConnection, records: list[Record]) -> None:
        """Create the day partitions the readings need (once per day per process)."""
        days = {reading.ts.date() for reading in _readings(records)} - self._days
        if days:
            await ensure_days(conn, days)
            self._days |= days

    def forget_days(self) -> None:
        """Partitions may have been dropped (retention): check again before writing."""
        self._days.clear()

    async def reset(self) -> None:
        """Empty every projection and every stored offset (the start of `rebuild`)."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(f"TRUNCATE {', '.join(PROJECTION_TABLES)}")
        log.info("projection.reset", group_id=self.group_id)


async def ensure_days(conn: AsyncConnection, days: Iterable[date]) -> None:
    """Create the partitions (readings, rollups) of these UTC days if missing (own transaction)."""
    async with conn.transaction():
        await conn.execute("SELECT ingest_ensure_days(%b::date[])", [sorted(days)])


def _readings(records: list[Record]) -> Iterator[Reading]:
    """Every reading the records hold: telemetry, and the readings of OpenADR reports."""
    for r in records:
        if isinstance(r.fact, Reading):
            yield r.fact
        elif r.fact is not None and isinstance(r.fact.payload, OadrObjectWritten):
            yield from readings_of_report(r.fact.factId, r.fact.payload, r.fact.occurredAt)


def _layouts(records: list[Record]) -> set[Layout]:
    return {r.fact.layout for r in records if isinstance(r.fact, Reading) and r.fact.circuits}


async def write_batch(conn: AsyncConnection, batch: Batch, layouts: Mapping[Layout, int]) -> None:
    """Every projection of one batch, in a fixed table order (fewer lock cycles)."""
    await write_registry(conn, batch)
    await write_readings(conn, batch, layouts)
    await write_ven_metrics(conn, batch)
    tally = await AckTally.open(conn, batch)  # locks the events the commands below can change
    await write_commands(conn, batch)
    await write_events(conn, batch, tally)
    await write_rejections(conn, batch)
    await write_oadr_objects(conn, batch)


_SELECT_OFFSETS = """
SELECT o.topic, o.partition, o.next_offset FROM projection_offsets o
WHERE o.group_id = %s
  AND (o.topic, o.partition) IN (SELECT * FROM unnest(%b::text[], %b::int[]))
ORDER BY o.topic, o.partition
"""
_LOCK_OFFSETS = _SELECT_OFFSETS + " FOR UPDATE"
_INSERT_OFFSETS = """
INSERT INTO projection_offsets (group_id, topic, partition, next_offset)
SELECT %s, * FROM unnest(%b::text[], %b::int[], %b::bigint[])
"""
_UPDATE_OFFSETS = """
UPDATE projection_offsets o SET next_offset = n.next_offset, updated_at = now()
FROM unnest(%b::text[], %b::int[], %b::bigint[]) AS n(topic, partition, next_offset)
WHERE o.group_id = %s AND o.topic = n.topic AND o.partition = n.partition
"""
