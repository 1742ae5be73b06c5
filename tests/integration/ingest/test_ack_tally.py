"""An event's ack aggregates, kept by difference (adapters/pg_ack_tally.py), equal a full recount.

The same facts are written to Postgres in several batchings and orders (acks before their
command, before their event, replaced by an earlier ack, duplicated, rejected; a VEN with two
event commands; a timeout); after every batch each event's row must equal what counting
every acked command of the event gives, and every batching must end in the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from dr_contracts.facts import CommandIssued, CommandTimedOut, EventCreated, Fact, new_fact
from dr_contracts.topics import MqttTopics
from ingest.adapters.migrations import migrate
from ingest.adapters.pg_ack_tally import AckTally
from ingest.adapters.pg_store import write_batch
from ingest.domain.batch import Batch
from ingest.domain.intake import intake
from tests import samples

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
EVENT = "evt-tally"

#: What the API serves, counted from scratch the way the projection used to after each batch.
RECOUNT = """
SELECT e.event_id, e.acked_count, e.actual_reduction_kw, e.avg_response_ms,
       (SELECT count(DISTINCT c.ven_id) FROM ven_commands c WHERE c.event_id = e.event_id
          AND c.op IN ('event', 'shedPanel') AND c.outcome = 'acked'),
       (SELECT coalesce(sum(c.actual_shed_kw::numeric), 0)::float8 FROM ven_commands c
         WHERE c.event_id = e.event_id AND c.op IN ('event', 'shedPanel') AND c.outcome = 'acked'),
       (SELECT avg(c.latency_ms::numeric)::float8 FROM ven_commands c WHERE c.event_id = e.event_id
          AND c.op IN ('event', 'shedPanel') AND c.outcome = 'acked')
FROM events e ORDER BY e.event_id
"""


def created() -> Fact:
    return new_fact(
        EventCreated(eventId=EVENT, startTime=T0, endTime=T0 + timedelta(hours=1), requestedReductionKw=9.0),
        fact_id="created",
        occurred_at=T0 - timedelta(minutes=5),
    )


def issued(ven: str, cid: str, at_s: float, op: str = "event") -> Fact:
    at = T0 + timedelta(seconds=at_s)
    payload = CommandIssued(
        venId=ven, correlationId=cid, eventId=EVENT, op=op, payload={}, issuedAt=at, attempt=1
    )
    return new_fact(payload, fact_id=f"issued-{cid}", occurred_at=at)


def timed_out(ven: str, cid: str) -> Fact:
    payload = CommandTimedOut(venId=ven, correlationId=cid, eventId=EVENT, op="event", attempts=3)
    return new_fact(payload, fact_id=f"timeout-{cid}", occurred_at=T0 + timedelta(minutes=1))


def ack(ven: str, cid: str, at_s: float, kw: float, **extra: Any) -> Fact:
    """A shape A ack, which names no event: the projection finds it through the command."""
    body = samples.ack_a(ven, cid, op="event", data={"shedAmount": kw}) | extra
    return intake(f"ven/ack/{ven}", samples.dumps(body), T0 + timedelta(seconds=at_s), MqttTopics(""))


FACTS: list[Fact] = [
    created(),
    issued("ven-1", "c1", 0.0),
    issued("ven-2", "c2", 0.0),
    issued("ven-3", "c3", 0.0),
    issued("ven-4", "c4", 0.0),
    ack("ven-1", "c1", 0.4, 2.5),
    ack("ven-2", "c2", 0.9, 1.25),
    ack("ven-2", "c2", 0.9, 1.25),  # the same ack twice
    ack("ven-2", "c2", 0.6, 1.5, ts=samples.TS + 1),  # an earlier ack of c2: it decides
    ack("ven-3", "c3", 0.7, 0.0, ok=False, status="rejected"),  # refused: not counted
    issued("ven-1", "c1b", 5.0, op="shedPanel"),  # ven-1's second event command
    ack("ven-1", "c1b", 5.2, 0.75),  # ven-1 still counts once, its kW add up
    ack("ven-5", "c5", 1.0, 3.0),  # acked before its command was issued
    issued("ven-5", "c5", 0.1),
    timed_out("ven-4", "c4"),
    ack("ven-4", "c4", 90.0, 1.0),  # acked after it timed out
    ack("ven-6", "c6", 2.0, 0.5, eventId=EVENT),  # names its event; its command is never seen
    issued("ven-7", "c7", 0.0),
    ack("ven-8", "c7", 0.5, 0.25),  # another VEN's ack of ven-7's command: ven-7 counts
    ack("ven-9", "c9", 0.3, 0.125),  # no event named, no command issued: not counted...
    timed_out("ven-9", "c9"),  # ...until its timeout names the event
]


async def apply(dsn: str, batches: Sequence[Sequence[Fact]]) -> list[tuple[Any, ...]]:
    """Write each batch in its own transaction; after each, the row must equal the recount."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        for facts in batches:
            batch = Batch()
            for fact in facts:
                batch.add(fact)
            async with conn.transaction():
                await write_batch(conn, batch, {})
            for event_id, *kept, n, kw, avg in await (await conn.execute(RECOUNT)).fetchall():
                assert kept == [n, kw, avg], (event_id, facts)
        return await (await conn.execute(RECOUNT)).fetchall()


async def reset(dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("TRUNCATE events, event_vens, ven_commands, ven_acks, vens")


async def test_any_batching_gives_the_recount(pg_db: str) -> None:
    await migrate(pg_db)
    one_by_one = await apply(pg_db, [[fact] for fact in FACTS])
    [(_, responding, kw, avg_ms, *_)] = one_by_one
    assert (responding, kw) == (7, 9.625) and avg_ms is not None  # ven-1, -2, -4, -5, -6, -7, -9
    batchings: list[list[list[Fact]]] = [
        [FACTS],  # all at once
        [FACTS[1:], FACTS[:1]],  # every command and ack before the event exists
        [FACTS[1:8], FACTS[:1] + FACTS[8:]],  # the event created with acks of stored commands
        [FACTS[i : i + 3] for i in range(0, len(FACTS), 3)],
        [list(reversed(FACTS[i : i + 5])) for i in range(0, len(FACTS), 5)],
    ]
    for batches in batchings:
        await reset(pg_db)
        assert await apply(pg_db, batches) == one_by_one


@pytest.mark.parametrize("event_row", ["stored", "being created"])
async def test_a_batch_holds_its_events_until_it_commits(pg_db: str, event_row: str) -> None:
    """Differences read by two projectors at once would count a change twice or not at all:
    a second batch touching the same event waits until the first commits, also while the
    first is the one creating the event (its full count must see the second's acks)."""
    await migrate(pg_db)
    await apply(pg_db, [FACTS[1:2]] if event_row == "being created" else [FACTS[:2]])
    first, second = Batch(), Batch()
    first.add(created() if event_row == "being created" else ack("ven-1", "c1", 0.4, 2.5))
    second.add(ack("ven-1", "c1", 0.4, 2.5) if event_row == "being created" else timed_out("ven-1", "c1"))
    async with (
        await psycopg.AsyncConnection.connect(pg_db) as one,
        await psycopg.AsyncConnection.connect(pg_db) as other,
    ):
        async with one.transaction():
            tally = await AckTally.open(one, first)
            assert tally.event_ids == [EVENT]
            await other.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                async with other.transaction():
                    await AckTally.open(other, second)
