"""Telemetry retention: whole partitions past their table's horizon are detached and dropped.

Rows are never deleted one by one (no vacuum debt, no bloat). A partition goes once its
upper bound is at or before `today - days`: raw readings after TELEMETRY_RAW_DAYS,
1-minute rollups after TELEMETRY_1M_DAYS, 15-minute rollups (month partitions) after
TELEMETRY_15M_DAYS. Bounds are read from the catalog, so the partitioning scheme has one
home (ingest_ensure_days in the migrations). `DETACH ... CONCURRENTLY` waits for running
queries instead of blocking the API's readers and the projector's writers; it cannot run
inside a transaction, hence a connection of its own in autocommit. A late reading for a
dropped day re-creates its partition (the projector's retry), and the next run drops it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import psycopg
import structlog
from psycopg import sql

log = structlog.get_logger(__name__)

# Partitions of a parent with their upper bound, and whether a detach was left half done.
_PARTITIONS = """
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), i.inhdetachpending
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = %s::regclass ORDER BY c.relname
"""
_UPPER = re.compile(r"TO \('([^']+)'\)")
#: Only one process (of all projector replicas) runs retention at a time.
_LOCK_KEY = 0x1D6E58


def upper_bound(bound: str) -> date:
    """`FOR VALUES FROM ('...') TO ('2026-12-07 00:00:00+00')` (session in UTC) -> that day."""
    match = _UPPER.search(bound)
    if match is None:
        raise ValueError(f"not a range partition bound: {bound!r}")
    return datetime.fromisoformat(match[1]).date()


async def drop_expired(dsn: str, keep_days: Mapping[str, int], today: date) -> list[str]:
    """Drop the partitions of each table (name -> days kept) that hold only older days.

    Returns the partitions dropped; does nothing if another process is already at it.
    """
    dropped: list[str] = []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("SET TimeZone = 'UTC'")
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,))
        locked = await cursor.fetchone()
        if not (locked and locked[0]):
            return dropped
        try:
            for table, days in keep_days.items():
                cutoff = today - timedelta(days=days)
                cursor = await conn.execute(_PARTITIONS, (table,))
                for name, bound, pending in await cursor.fetchall():
                    if upper_bound(bound) > cutoff:
                        continue
                    how = sql.SQL("FINALIZE" if pending else "CONCURRENTLY")
                    await conn.execute(
                        sql.SQL("ALTER TABLE {} DETACH PARTITION {} {}").format(
                            sql.Identifier(table), sql.Identifier(name), how
                        )
                    )
                    await conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
                    dropped.append(name)
                    log.info("retention.dropped", table=table, partition=name, kept_days=days)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return dropped
