"""An event's ack aggregates (vensResponding, actual reduction, mean response), kept by difference.

They used to be recounted from every acked command of the event after each batch that
touched it: 8 ms a batch at 10,000 VENs, 85 ms at 100,000, paid by every batch of an ack
wave. Now, before a batch writes its commands, the events it can touch are locked and what
the VENs whose sums it can change contribute to them is read; after the writes it is read
again, and the difference is added to the event.

Whose sums can change: a command counts while it is acked, so a batch changes a VEN's sums
only through a command that was acked before it (its kW, latency or event may move) or that
it acks. Those commands' VENs: as stored (a command never changes VEN), and for a command
not stored yet, the VEN of its ack or of its issue in the same batch (which writes it
first). A fan-out of issues to VENs that have not acked reads no sums at all.

The events stay locked to the end of the transaction (an advisory lock per event id, which
also holds before the event's row exists), so two projectors never interleave their
differences. An event whose row does not exist yet gets no difference: it is counted in full
when its EventCreated is applied (`close`), after any batch that added to it has committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg import AsyncConnection

from dr_contracts.commands import EVENT_OPS
from ingest.adapters.pg_writes import columns
from ingest.domain.batch import Batch

#: (VENs with an acked event command, sum of actualShedKw, sum of latency_ms, commands with a
#: latency). A VEN counts once however many of its commands were acked.
Counts = tuple[int, Decimal, Decimal, int]
Sums = dict[str, Counts]

_STORED = """
SELECT correlation_id, event_id, ven_id, outcome = 'acked' FROM ven_commands
WHERE correlation_id = ANY(%b::text[])
"""
#: A transaction lock per event id, taken in id order: unlike `FOR UPDATE` on the row, it also
#: holds while the row does not exist yet, so a batch that creates the event (and counts it in
#: full) and a batch that adds to it cannot both miss the other's uncommitted writes.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(e, 0)) FROM unnest(%b::text[]) AS e"
_SUMS = """
SELECT c.event_id, count(DISTINCT c.ven_id), coalesce(sum(c.actual_shed_kw::numeric), 0),
       coalesce(sum(c.latency_ms::numeric), 0), count(c.latency_ms)
FROM {commands}
GROUP BY c.event_id
"""
_ACKED = "c.op = ANY(%b::text[]) AND c.outcome = 'acked'"
#: Over the given VENs: one index lookup per (event, VEN). `OFFSET 0` keeps the subquery from
#: being flattened, or the planner hashes the whole command table once one event is most of
#: it (200 VENs of a 10,000-VEN event: 3.5 ms hashed, 0.8 ms looked up).
_SUMS_OF_VENS = _SUMS.format(
    commands=f"""unnest(%b::text[]) AS e(event_id) CROSS JOIN unnest(%b::text[]) AS v(ven_id)
CROSS JOIN LATERAL (
    SELECT * FROM ven_commands c
    WHERE c.event_id = e.event_id AND c.ven_id = v.ven_id AND {_ACKED} OFFSET 0
) c"""
)
_SUMS_OF_ALL = _SUMS.format(commands=f"ven_commands c WHERE c.event_id = ANY(%b::text[]) AND {_ACKED}")
#: Adds to the stored sums (Postgres derives the columns the API serves from them, 0003).
_ADD = """
UPDATE events e SET
    acked_count = e.acked_count + d.n,
    ack_kw_sum = e.ack_kw_sum + d.kw,
    ack_latency_sum_ms = e.ack_latency_sum_ms + d.lat,
    ack_latency_samples = e.ack_latency_samples + d.samples
FROM unnest(%b::text[], %b::int[], %b::numeric[], %b::numeric[], %b::int[])
     AS d(event_id, n, kw, lat, samples)
WHERE e.event_id = d.event_id
"""
_NONE: Counts = (0, Decimal(0), Decimal(0), 0)


@dataclass
class AckTally:
    """What one batch may change in its events' ack aggregates, read before its writes."""

    #: Every event the batch can touch, locked (sorted, so projectors lock in one order).
    event_ids: list[str]
    ven_ids: list[str]
    before: Sums

    @classmethod
    async def open(cls, conn: AsyncConnection, batch: Batch) -> AckTally:
        """Lock the events the batch can touch and read their sums over the VENs it can touch."""
        named = sorted(batch.issued.keys() | batch.timed_out.keys() | batch.first_acks.keys())
        stored: list[tuple[str, str | None, str, bool]] = []
        if named:
            cursor = await conn.execute(_STORED, [named])
            stored = await cursor.fetchall()
        event_ids = sorted(batch.event_ids | {e for _, e, _, _ in stored if e is not None})
        acking = batch.first_acks.keys()
        ven_ids = {v for cid, _, v, acked in stored if acked or cid in acking}
        ven_ids |= {a.venId for a in batch.first_acks.values()}
        ven_ids |= {batch.issued[cid].ven_id for cid in acking & batch.issued.keys()}
        if event_ids:
            await conn.execute(_LOCK, [event_ids])
        return cls(event_ids, sorted(ven_ids), await _sums(conn, event_ids, sorted(ven_ids)))

    async def close(self, conn: AsyncConnection, created: set[str]) -> None:
        """Add what the batch's writes changed; an event created by the batch (its row starts
        at zero) gets everything its commands already hold."""
        counted = [e for e in self.event_ids if e not in created]
        after = await _sums(conn, counted, self.ven_ids) | await _sums(conn, sorted(created))
        rows = []
        for event_id in self.event_ids:
            before, now = self.before.get(event_id, _NONE), after.get(event_id, _NONE)
            if event_id in created:
                before = _NONE
            change = (now[0] - before[0], now[1] - before[1], now[2] - before[2], now[3] - before[3])
            if any(change):
                rows.append((event_id, *change))
        if rows:
            await conn.execute(_ADD, columns(rows, 5))


async def _sums(conn: AsyncConnection, event_ids: list[str], ven_ids: list[str] | None = None) -> Sums:
    """Per event, the sums over the given VENs' commands (None: over all of them)."""
    if not event_ids or ven_ids == []:
        return {}
    if ven_ids is None:
        cursor = await conn.execute(_SUMS_OF_ALL, [event_ids, sorted(EVENT_OPS)])
    else:
        cursor = await conn.execute(_SUMS_OF_VENS, [event_ids, ven_ids, sorted(EVENT_OPS)])
    return {event_id: (n, kw, lat, samples) for event_id, n, kw, lat, samples in await cursor.fetchall()}
