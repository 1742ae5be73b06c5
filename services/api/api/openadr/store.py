"""The facade's reads on the Postgres projections: `oadr_objects` and `events`.

Visibility is decided here in SQL, from the caller (docs/openadr.md#auth): a BL sees every
object; a VEN its own (client_id) VEN, resource, report and subscription objects, and the
programs and events that are untargeted or targeted at one of its targets (those the BL
granted to its VEN and resources).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from api.adapters import Pool, sql
from api.openadr.event_map import DEFAULT_PROGRAM_ID
from dr_contracts.rules import OPENADR_SOURCE

#: The default program (events created over /api/events): served, never stored.
DEFAULT_PROGRAM_BODY = {
    "programName": "platform-events",
    "programLongName": "Events created over the platform's REST API (/api/events)",
}
_DEFAULT_PROGRAM_AT = datetime(2026, 1, 1, tzinfo=UTC)

#: Where a VEN is reachable by target: what the BL granted its VEN objects and the resources
#: of those (a resource whose VEN object is gone grants nothing).
_VEN_TARGETS = """
SELECT o.client_id, array_agg(DISTINCT t) AS targets FROM oadr_objects o,
  jsonb_array_elements_text(coalesce(o.body->'targets', '[]')) t
WHERE o.client_id = ANY(%(clients)s) AND (o.object_type = 'VEN' OR o.object_type = 'RESOURCE' AND EXISTS (
  SELECT 1 FROM oadr_objects v
  WHERE v.object_type = 'VEN' AND v.object_id = o.body->>'venID' AND v.client_id = o.client_id))
GROUP BY o.client_id
"""
#: The name no two objects of a kind share (kinds.Kind.unique; resources: per VEN object).
NAME = (
    "CASE object_type WHEN 'PROGRAM' THEN body->>'programName' WHEN 'VEN' THEN body->>'venName' "
    "WHEN 'RESOURCE' THEN body->>'resourceName' END"
)


def _targets(column: str) -> str:
    return f"ARRAY(SELECT jsonb_array_elements_text(coalesce({column}, '[]')))"


#: `%(targets)s`: the `targets` query filter (any of them); `%(visible)s`: a VEN's targets
#: (untargeted objects are everyone's); either NULL when it does not apply.
def _target_filters(targets: str) -> str:
    return (
        f"(%(targets)s::text[] IS NULL OR {targets} && %(targets)s) AND "
        f"(%(visible)s::text[] IS NULL OR cardinality({targets}) = 0 OR {targets} && %(visible)s)"
    )


_OBJECTS = f"""
WITH o AS (
  SELECT object_type, object_id, client_id, body, reads_all, created_at, modified_at FROM oadr_objects
  WHERE object_type = %(type)s
  UNION ALL
  SELECT 'PROGRAM', %(default_id)s, 'platform', %(default_body)s, NULL, %(default_at)s, %(default_at)s
  WHERE %(type)s = 'PROGRAM'
)
SELECT * FROM o
WHERE (%(id)s::text IS NULL OR object_id = %(id)s)
  AND (%(owner)s::text IS NULL OR client_id = %(owner)s)
  AND (%(name)s::text IS NULL OR {NAME} = %(name)s)
  AND (%(ven)s::text IS NULL OR body->>'venID' = %(ven)s)
  AND (%(objects)s::text[] IS NULL OR EXISTS (
    SELECT 1 FROM jsonb_array_elements(body->'objectOperations') op,
      jsonb_array_elements_text(op->'objects') ob WHERE ob = ANY(%(objects)s)))
  AND (%(event)s::text IS NULL OR body->>'eventID' = %(event)s)
  AND (%(client_name)s::text IS NULL OR body->>'clientName' = %(client_name)s)
  AND (%(program)s::text IS NULL OR body->>'programID' = %(program)s OR EXISTS (
    SELECT 1 FROM events e WHERE e.event_id = o.body->>'eventID'
      AND coalesce(e.program_id, %(default_id)s) = %(program)s))
  AND {_target_filters(_targets("body->'targets'"))}
ORDER BY created_at, object_id LIMIT %(limit)s OFFSET %(skip)s
"""

_OADR_TARGETS = _targets("e.openadr->'targets'")
#: An event's targets: as sent over OpenADR, else the REST event's venIds (NULL: none);
#: event_map.targets_of says the same in Python.
_EVENT_TARGETS = f"(CASE WHEN e.openadr IS NULL THEN coalesce(e.ven_ids, '{{}}') ELSE {_OADR_TARGETS} END)"
#: What the OpenADR view of an event needs; events stopped or cancelled (on either side)
#: are gone from it: a VEN must not act on them.
_EVENTS = f"""
SELECT e.event_id, e.program_id, e.openadr, e.start_time, e.end_time, e.requested_reduction_kw,
  e.ven_ids, e.created_at, e.updated_at, {sql.EVENT_STATUS} AS status
FROM events e
WHERE {sql.EVENT_STATUS} NOT IN ('stopped', 'cancelled')
  AND (NOT %(current)s OR e.status IN ('scheduled', 'active'))
  AND (%(id)s::text IS NULL OR e.event_id = %(id)s)
  AND (%(program)s::text IS NULL OR coalesce(e.program_id, %(default_id)s) = %(program)s)
  AND {_target_filters(_EVENT_TARGETS)}
ORDER BY e.created_at DESC, e.event_id LIMIT %(limit)s OFFSET %(skip)s
"""
#: One event whatever its status (a webhook of its end needs it after it left the view).
_EVENT_ROW = """
SELECT event_id, program_id, openadr, start_time, end_time, requested_reduction_kw, ven_ids,
  created_at, updated_at FROM events WHERE event_id = %(id)s
"""
_PROGRAM_EVENTS = "SELECT count(*) AS n FROM events WHERE program_id = %(program)s"
_KNOWN_TARGETS = f"""
SELECT ven_id AS target FROM vens
WHERE ven_id = ANY(%(targets)s) AND deleted_at IS NULL AND source <> '{OPENADR_SOURCE}'
UNION
SELECT t FROM oadr_objects o, jsonb_array_elements_text(coalesce(o.body->'targets', '[]')) t
WHERE o.object_type IN ('VEN', 'RESOURCE') AND t = ANY(%(targets)s)
"""
_MQTT_VEN = f"SELECT 1 FROM vens WHERE ven_id = %(ven)s AND source <> '{OPENADR_SOURCE}'"
_PLATFORM_VENS = f"""
SELECT ven_id FROM vens
WHERE ven_id = ANY(%(targets)s) AND deleted_at IS NULL AND source <> '{OPENADR_SOURCE}'
"""


@dataclass(frozen=True)
class Filter:
    """A list request: a page, the optional filters, and what the caller may see."""

    skip: int = 0
    limit: int = 50
    targets: list[str] | None = None
    #: Events that have not ended only (a VEN's polls: the `events_status` index serves them).
    current: bool = False
    #: A VEN's targets (None: a BL, who sees everything).
    visible: list[str] | None = None
    #: Only this client's objects (a VEN reading its own; None: anyone's).
    owner: str | None = None
    name: str | None = None
    program: str | None = None
    event: str | None = None
    client_name: str | None = None
    #: Resources of this VEN object.
    ven: str | None = None
    #: Subscriptions to any of these object types.
    objects: list[str] | None = None
    id: str | None = None


class OadrStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def _all(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()

    async def objects(self, object_type: str, f: Filter) -> list[dict[str, Any]]:
        params = {
            "type": object_type,
            "default_id": DEFAULT_PROGRAM_ID,
            "default_body": Jsonb(DEFAULT_PROGRAM_BODY),
            "default_at": _DEFAULT_PROGRAM_AT,
            **_params(f),
        }
        return await self._all(_OBJECTS, params)

    async def events(self, f: Filter) -> list[dict[str, Any]]:
        return await self._all(_EVENTS, {"default_id": DEFAULT_PROGRAM_ID, **_params(f)})

    @contextlib.asynccontextmanager
    async def name_lock(self, object_type: str, name: str) -> AsyncIterator[None]:
        """Held while a name is checked and its object written and projected: two api replicas
        cannot both take it (a session lock on a connection of its own)."""
        async with self._pool.connection() as conn:
            key = f"oadr-name:{object_type}:{name}"
            await conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (key,))

    async def event_row(self, event_id: str) -> dict[str, Any] | None:
        rows = await self._all(_EVENT_ROW, {"id": event_id})
        return rows[0] if rows else None

    async def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription (few: one or two per client), for the notifier to match."""
        return await self.objects("SUBSCRIPTION", Filter(limit=100_000))

    async def ven_targets(self, client_id: str) -> list[str]:
        """The targets a VEN is reachable by (none without a VEN object: it sees untargeted ones)."""
        return (await self.targets_of([client_id])).get(client_id, [])

    async def targets_of(self, client_ids: list[str]) -> dict[str, list[str]]:
        """`ven_targets` of many clients in one query (the notifier's VEN subscribers)."""
        rows = await self._all(_VEN_TARGETS, {"clients": client_ids})
        return {row["client_id"]: list(row["targets"]) for row in rows}

    async def mqtt_ven(self, ven_id: str) -> bool:
        """Whether `ven_id` is one of the platform's MQTT VENs (an OpenADR VEN may not report as one)."""
        return bool(await self._all(_MQTT_VEN, {"ven": ven_id}))

    async def program_has_events(self, program_id: str) -> bool:
        rows = await self._all(_PROGRAM_EVENTS, {"program": program_id})
        return bool(rows[0]["n"])

    async def unknown_targets(self, targets: list[str]) -> list[str]:
        """Of `targets`, those that reach no VEN: no platform VEN has that id, no VEN object the target."""
        known = {r["target"] for r in await self._all(_KNOWN_TARGETS, {"targets": targets})}
        return [t for t in targets if t not in known]

    async def platform_vens(self, targets: list[str]) -> list[str]:
        """Of `targets`, the platform's own (MQTT) VENs: the ones the dispatcher commands."""
        found = {r["ven_id"] for r in await self._all(_PLATFORM_VENS, {"targets": targets})}
        return [t for t in targets if t in found]


def _params(f: Filter) -> dict[str, Any]:
    return {
        "skip": f.skip,
        "limit": f.limit,
        "targets": f.targets,
        "visible": f.visible,
        "owner": f.owner,
        "name": f.name,
        "program": f.program,
        "event": f.event,
        "client_name": f.client_name,
        "ven": f.ven,
        "objects": f.objects,
        "id": f.id,
        "current": f.current,
    }
