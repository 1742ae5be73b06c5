"""Events and VEN registrations: rows folded in Python (domain) from their locked state."""

from __future__ import annotations

from dataclasses import astuple, fields

import structlog
from psycopg import AsyncConnection
from psycopg.rows import class_row

from dr_contracts.commands import EVENT_OPS
from ingest.domain.batch import Batch
from ingest.domain.events import EventState, fold
from ingest.domain.vens import Registration, register

log = structlog.get_logger(__name__)

_EVENT_COLUMNS = [f.name for f in fields(EventState)]
_LOAD_EVENTS = f"""
SELECT {", ".join(_EVENT_COLUMNS)} FROM events WHERE event_id = ANY(%b::text[])
ORDER BY event_id FOR UPDATE
"""
_UPSERT_EVENT = f"""
INSERT INTO events ({", ".join(_EVENT_COLUMNS)})
VALUES ({", ".join(["%s"] * len(_EVENT_COLUMNS))})
ON CONFLICT (event_id) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in _EVENT_COLUMNS[1:])}
"""
# vensResponding, actual reduction and average response time, recomputed from ven_commands
# (each VEN's event command counted once). The touched events' rows are locked first
# (_LOAD_EVENTS), so concurrent projectors cannot overwrite each other's counts.
_AGGREGATES = """
UPDATE events e SET acked_count = s.n, actual_reduction_kw = s.kw, avg_response_ms = s.ms
FROM (
    SELECT x.event_id, count(DISTINCT c.ven_id) AS n, coalesce(sum(c.actual_shed_kw), 0) AS kw,
           avg(c.latency_ms) AS ms
    FROM unnest(%b::text[]) AS x(event_id)
    LEFT JOIN ven_commands c
           ON c.event_id = x.event_id AND c.op = ANY(%b::text[]) AND c.outcome = 'acked'
    GROUP BY x.event_id
) s
WHERE e.event_id = s.event_id
"""
_ALLOCATIONS = """
INSERT INTO event_vens (event_id, ven_id, allocated_kw, capability_kw) VALUES (%s, %s, %s, %s)
ON CONFLICT DO NOTHING
"""


async def write_events(conn: AsyncConnection, batch: Batch) -> None:
    """Lock every touched event, apply its facts in order, then recompute its ack aggregates."""
    event_ids = sorted(batch.event_ids | await _events_of_acks(conn, batch))
    if not event_ids:
        return
    async with conn.cursor(row_factory=class_row(EventState)) as cur:
        await cur.execute(_LOAD_EVENTS, [event_ids])
        known = {state.event_id: state for state in await cur.fetchall()}
    changes = fold(known, batch.events)
    for event_id in changes.unknown:
        log.warning("event.unknown", event_id=event_id)
    async with conn.cursor() as cur:
        if changes.states:
            await cur.executemany(_UPSERT_EVENT, [astuple(s) for s in changes.states.values()])
        if changes.allocations:
            await cur.executemany(
                _ALLOCATIONS,
                [(event_id, a.venId, a.shedKw, a.capabilityKw) for event_id, a in changes.allocations],
            )
    await conn.execute(_AGGREGATES, [event_ids, sorted(EVENT_OPS)])


async def _events_of_acks(conn: AsyncConnection, batch: Batch) -> set[str]:
    """Events of the commands acked in this batch (shape A acks do not name their event)."""
    if not batch.first_acks:
        return set()
    cursor = await conn.execute(_ACKED_EVENTS, [sorted(batch.first_acks)])
    return {event_id for (event_id,) in await cursor.fetchall()}


_ACKED_EVENTS = """
SELECT DISTINCT event_id FROM ven_commands WHERE correlation_id = ANY(%b::text[]) AND event_id IS NOT NULL
"""
_REGISTRATION_COLUMNS = {
    "ven_id": "ven_id",
    "name": "name",
    "source": "source",
    "created_at": "created_at",
    "admin_status": "admin_status",
    "lat": "location_lat",
    "lon": "location_lon",
    "deleted_at": "deleted_at",
}
_LOAD_VENS = f"""
SELECT {", ".join(f"{col} AS {attr}" for attr, col in _REGISTRATION_COLUMNS.items())}
FROM vens WHERE ven_id = ANY(%b::text[]) ORDER BY ven_id FOR UPDATE
"""


def _set_registration(column: str) -> str:
    """Telemetry may have registered the VEN meanwhile: keep the earliest creation time."""
    if column == "created_at":
        return "created_at = least(vens.created_at, excluded.created_at)"
    return f"{column} = excluded.{column}"


_UPSERT_VEN = f"""
INSERT INTO vens ({", ".join(_REGISTRATION_COLUMNS.values())})
VALUES ({", ".join(["%s"] * len(_REGISTRATION_COLUMNS))})
ON CONFLICT (ven_id) DO UPDATE SET
{", ".join(_set_registration(c) for c in list(_REGISTRATION_COLUMNS.values())[1:])}
"""


async def write_registry(conn: AsyncConnection, batch: Batch) -> None:
    """VenRegistered/Updated/Deleted, folded over each VEN's current registration."""
    if not batch.registry:
        return
    ven_ids = sorted({fact.venId for fact, _ in batch.registry})  # type: ignore[attr-defined]
    async with conn.cursor(row_factory=class_row(Registration)) as cur:
        await cur.execute(_LOAD_VENS, [ven_ids])
        states: dict[str, Registration] = {r.ven_id: r for r in await cur.fetchall()}
    for fact, at in batch.registry:
        ven_id = fact.venId  # type: ignore[attr-defined]
        states[ven_id] = register(states.get(ven_id), fact, at)
    async with conn.cursor() as cur:
        await cur.executemany(_UPSERT_VEN, [astuple(states[v]) for v in ven_ids])
