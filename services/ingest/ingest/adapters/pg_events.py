"""Events and VEN registrations: rows folded in Python (domain) from their locked state."""

from __future__ import annotations

from dataclasses import astuple, fields

import structlog
from psycopg import AsyncConnection
from psycopg.rows import class_row

from ingest.adapters.pg_ack_tally import AckTally
from ingest.adapters.pg_writes import jsonb
from ingest.domain.batch import Batch
from ingest.domain.events import EventState, fold
from ingest.domain.vens import Registration, register

log = structlog.get_logger(__name__)

_EVENT_COLUMNS = [f.name for f in fields(EventState)]
#: Every projector locks these events first (AckTally.open), so this read stays true to the commit.
_LOAD_EVENTS = f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE event_id = ANY(%b::text[])"
_UPSERT_EVENT = f"""
INSERT INTO events ({", ".join(_EVENT_COLUMNS)})
VALUES ({", ".join(["%s"] * len(_EVENT_COLUMNS))})
ON CONFLICT (event_id) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in _EVENT_COLUMNS[1:])}
"""
_ALLOCATIONS = """
INSERT INTO event_vens (event_id, ven_id, allocated_kw, capability_kw) VALUES (%s, %s, %s, %s)
ON CONFLICT DO NOTHING
"""


async def write_events(conn: AsyncConnection, batch: Batch, tally: AckTally) -> None:
    """Apply each touched event's facts in order (the tally locked it), then its ack aggregates."""
    if not tally.event_ids:
        return
    async with conn.cursor(row_factory=class_row(EventState)) as cur:
        await cur.execute(_LOAD_EVENTS, [tally.event_ids])
        known = {state.event_id: state for state in await cur.fetchall()}
    changes = fold(known, batch.events)
    for event_id in changes.unknown:
        log.warning("event.unknown", event_id=event_id)
    async with conn.cursor() as cur:
        if changes.states:
            await cur.executemany(_UPSERT_EVENT, [_row(s) for s in changes.states.values()])
        if changes.allocations:
            await cur.executemany(
                _ALLOCATIONS,
                [(event_id, a.venId, a.shedKw, a.capabilityKw) for event_id, a in changes.allocations],
            )
    await tally.close(conn, created=changes.states.keys() - known.keys())


def _row(state: EventState) -> tuple[object, ...]:
    """The row's values as psycopg takes them (the OpenADR object as jsonb)."""
    return tuple(jsonb(v) if isinstance(v, dict) else v for v in astuple(state))


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
