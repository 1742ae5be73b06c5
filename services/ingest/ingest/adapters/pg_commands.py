"""Commands and acks, and the loads a VEN reports shed (event aggregates: pg_events.py)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from dr_contracts.facts import AckReceived, CommandRequested, CommandTimedOut
from ingest.adapters.pg_writes import columns, jsonb
from ingest.domain.batch import Batch
from ingest.domain.commands import Issue, outcome

_REQUESTED = """
INSERT INTO ven_commands (correlation_id, ven_id, op, payload)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::jsonb[])
ON CONFLICT DO NOTHING
"""

_ISSUED = """
INSERT INTO ven_commands AS c (correlation_id, event_id, ven_id, op, payload, first_issued_at,
                               last_issued_at, attempts)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::jsonb[],
                     %b::timestamptz[], %b::timestamptz[], %b::int[])
ON CONFLICT (correlation_id) DO UPDATE SET
    event_id = coalesce(excluded.event_id, c.event_id),
    op = excluded.op,
    payload = excluded.payload,
    first_issued_at = least(c.first_issued_at, excluded.first_issued_at),
    last_issued_at = greatest(c.last_issued_at, excluded.last_issued_at),
    attempts = greatest(c.attempts, excluded.attempts),
    latency_ms = ingest_latency_ms(c.acked_at, least(c.first_issued_at, excluded.first_issued_at))
"""

# A command issued after its ack was projected: the ack was for a command after all.
_MATCH_ACKS = "UPDATE ven_acks SET matched = true WHERE correlation_id = ANY(%b::text[]) AND NOT matched"

_TIMED_OUT = """
INSERT INTO ven_commands AS c (correlation_id, event_id, ven_id, op, attempts, outcome)
SELECT i, e, v, o, a, 'timed_out' FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[],
                                                %b::int[]) AS n(i, e, v, o, a)
ON CONFLICT (correlation_id) DO UPDATE SET
    event_id = coalesce(c.event_id, excluded.event_id),
    attempts = greatest(c.attempts, excluded.attempts),
    outcome = CASE WHEN c.acked_at IS NULL THEN 'timed_out' ELSE c.outcome END
"""

# The first ack (earliest received) of a command decides its outcome and latency.
_FIRST = "(c.acked_at IS NULL OR excluded.acked_at < c.acked_at)"
_ACKED = f"""
INSERT INTO ven_commands AS c (correlation_id, event_id, ven_id, op, acked_at, outcome,
                               ack_status, actual_shed_kw)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[],
                     %b::text[], %b::text[], %b::float8[])
ON CONFLICT (correlation_id) DO UPDATE SET
    event_id = coalesce(c.event_id, excluded.event_id),
    acked_at = least(c.acked_at, excluded.acked_at),
    outcome = CASE WHEN {_FIRST} THEN excluded.outcome ELSE c.outcome END,
    ack_status = CASE WHEN {_FIRST} THEN excluded.ack_status ELSE c.ack_status END,
    actual_shed_kw = CASE WHEN {_FIRST} THEN excluded.actual_shed_kw ELSE c.actual_shed_kw END,
    latency_ms = ingest_latency_ms(least(c.acked_at, excluded.acked_at), c.first_issued_at)
"""

_ACKS = """
INSERT INTO ven_acks (fact_id, ven_id, correlation_id, op, ok, status, ts, received_at, event_id,
                      requested_shed_kw, actual_shed_kw, circuits_curtailed, shape, raw, matched)
SELECT n.*, EXISTS (SELECT 1 FROM ven_commands c WHERE c.correlation_id = n.correlation_id
                                                   AND c.first_issued_at IS NOT NULL)
FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::bool[], %b::text[],
            %b::timestamptz[], %b::timestamptz[], %b::text[], %b::float8[], %b::float8[],
            %b::jsonb[], %b::text[], %b::jsonb[])
     AS n(fact_id, ven_id, correlation_id, op, ok, status, ts, received_at, event_id,
          requested_shed_kw, actual_shed_kw, circuits_curtailed, shape, raw)
ON CONFLICT (fact_id) DO NOTHING
"""

# An ack at the same time as the one shown wins: the result does not depend on order.
_SHED = """
UPDATE vens v SET shed_load_ids = ARRAY(SELECT jsonb_array_elements_text(n.ids)),
                  shed_updated_at = n.at
FROM unnest(%b::text[], %b::timestamptz[], %b::jsonb[]) AS n(ven_id, at, ids)
WHERE v.ven_id = n.ven_id AND (v.shed_updated_at IS NULL OR v.shed_updated_at <= n.at)
"""


async def write_commands(conn: AsyncConnection, batch: Batch) -> None:
    """Requested, issued and timed-out commands, then every ack and its first-ack effects."""
    for statement, rows, width in (
        (_REQUESTED, [_requested_row(c) for _, c in sorted(batch.requested.items())], 4),
        (_ISSUED, [_issued_row(i) for _, i in sorted(batch.issued.items())], 8),
        (_MATCH_ACKS, [(cid,) for cid in sorted(batch.issued)], 1),
        (_TIMED_OUT, [_timed_out_row(t) for _, t in sorted(batch.timed_out.items())], 5),
        (_ACKED, [_first_ack_row(c, f) for c, f in sorted(batch.first_acks.items())], 8),
        (_ACKS, [_ack_row(i, f) for i, f in sorted(batch.acks.items())], 14),
        (_SHED, [(s.ven_id, s.at, jsonb(s.load_ids)) for _, s in sorted(batch.shed.items())], 3),
    ):
        if rows:
            await conn.execute(statement, columns(rows, width))


def _requested_row(c: CommandRequested) -> tuple[Any, ...]:
    return (c.correlationId, c.venId, c.op, jsonb(c.payload))


def _issued_row(i: Issue) -> tuple[Any, ...]:
    return (
        i.correlation_id,
        i.event_id,
        i.ven_id,
        i.op,
        jsonb(i.payload),
        i.first_issued_at,
        i.last_issued_at,
        i.attempts,
    )


def _timed_out_row(t: CommandTimedOut) -> tuple[Any, ...]:
    return (t.correlationId, t.eventId, t.venId, t.op, t.attempts)


def _first_ack_row(correlation_id: str, f: AckReceived) -> tuple[Any, ...]:
    a = f.ack
    return (correlation_id, a.eventId, f.venId, a.op, f.receivedAt, outcome(a), a.status, a.actualShedKw)


def _ack_row(fact_id: str, f: AckReceived) -> tuple[Any, ...]:
    a = f.ack
    circuits = [c.model_dump(exclude_none=True) for c in a.circuitsCurtailed]
    return (
        fact_id,
        a.venId,
        a.correlationId,
        a.op,
        a.ok,
        a.status,
        a.ts,
        f.receivedAt,
        a.eventId,
        a.requestedShedKw,
        a.actualShedKw,
        jsonb(circuits),
        a.shape,
        jsonb(f.raw),
    )
