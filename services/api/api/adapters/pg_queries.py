"""Read endpoints on the Postgres projections: one or two indexed queries per request."""

from __future__ import annotations

from typing import Any

from api.adapters import Pool, sql
from api.adapters.sql import num
from api.domain.resolution import Resolution
from api.ports import Page, Window
from dr_contracts.rules import MAX_EVENT_DURATION, ONLINE_MISSED_INTERVALS

_EVENTS = f"""
SELECT {sql.EVENT_COLUMNS} FROM events e
WHERE (%(status)s::text IS NULL OR {sql.EVENT_STATUS} = %(status)s)
ORDER BY e.start_time DESC, e.event_id LIMIT %(limit)s OFFSET %(offset)s
"""

_CURRENT = f"""
SELECT {sql.EVENT_COLUMNS}, {sql.EVENT_METRICS} FROM events e
WHERE e.status IN ({sql.stored_statuses("active")}) AND {sql.EVENT_STATUS} = 'active'
ORDER BY e.start_time, e.event_id LIMIT %(limit)s OFFSET %(offset)s
"""

# The lower bound on start_time lets the start_time index serve the overlap test:
# no event lasts longer than `longest` (rules.MAX_EVENT_DURATION).
_HISTORY = f"""
SELECT {sql.EVENT_COLUMNS} FROM events e
WHERE e.start_time < %(end)s AND e.start_time > %(start)s - %(longest)s
  AND e.end_time > %(start)s
ORDER BY e.start_time, e.event_id LIMIT %(limit)s OFFSET %(offset)s
"""

# Per-VEN participation: the allocation once activated (else the targeted venIds) with the
# outcome of the VEN's event command; one JSON array, in the same round trip as the event.
_EVENT_VENS = """
SELECT coalesce(json_agg(p ORDER BY p."venId"), '[]') FROM (
  SELECT t.ven_id AS "venId", v.name AS "venName", coalesce(t.allocated_kw, 0) AS "shedKw",
    c.actual_shed_kw AS "actualShedKw", c.latency_ms AS "responseMs",
    coalesce(c.outcome, CASE WHEN t.allocated_kw IS NULL THEN 'targeted' ELSE 'allocated' END)
      AS status
  FROM (
    SELECT ev.ven_id, ev.allocated_kw FROM event_vens ev WHERE ev.event_id = e.event_id
    UNION ALL
    SELECT unnest(e.ven_ids), NULL
    WHERE NOT EXISTS (SELECT 1 FROM event_vens ev WHERE ev.event_id = e.event_id)
  ) t
  LEFT JOIN vens v ON v.ven_id = t.ven_id
  LEFT JOIN LATERAL (
    SELECT outcome, actual_shed_kw, latency_ms FROM ven_commands c
    WHERE c.event_id = e.event_id AND c.ven_id = t.ven_id AND c.op IN ('event', 'shedPanel')
    ORDER BY c.first_issued_at DESC NULLS LAST LIMIT 1
  ) c ON true
) p
"""
_EVENT_DETAIL = f"""
SELECT {sql.EVENT_COLUMNS}, {sql.EVENT_METRICS}, ({_EVENT_VENS}) AS vens
FROM events e WHERE e.event_id = %(event)s
"""

_VEN_COLUMNS = f"""
  v.ven_id AS id, v.name, {sql.VEN_STATUS} AS status, v.location_lat, v.location_lon,
  v.created_at AS "createdAt", v.last_seen AS "lastSeen", v.loads,
  v.current_power_kw, v.shed_availability_kw, v.active_event_id, v.shed_load_ids
"""
_VENS = f"""
SELECT {_VEN_COLUMNS} FROM vens v WHERE v.deleted_at IS NULL
ORDER BY v.ven_id LIMIT %(limit)s OFFSET %(offset)s
"""
_VEN = f"SELECT {_VEN_COLUMNS} FROM vens v WHERE v.ven_id = %(ven)s AND v.deleted_at IS NULL"
_LIVE = "SELECT 1 FROM vens WHERE ven_id = %(ven)s AND deleted_at IS NULL"

_TELEMETRY_WHERE = "ven_id = %(ven)s AND ts >= %(start)s AND ts < %(end)s"
_TELEMETRY = f"""
SELECT ts AS timestamp, used_power_kw AS "usedPowerKw", shed_power_kw AS "shedPowerKw",
  requested_reduction_kw AS "requestedReductionKw", event_id AS "eventId",
  battery_soc AS "batterySoc"
FROM ven_telemetry WHERE {_TELEMETRY_WHERE}
ORDER BY ts DESC LIMIT %(limit)s OFFSET %(offset)s
"""

_ACKS = """
SELECT event_id AS "eventId", ts AS timestamp, op, status, correlation_id AS "correlationId",
  requested_shed_kw AS "requestedShedKw", actual_shed_kw AS "actualShedKw",
  circuits_curtailed AS "circuitsCurtailed"
FROM ven_acks WHERE ven_id = %(ven)s AND ts >= %(start)s AND ts < %(end)s
ORDER BY ts DESC, fact_id LIMIT %(limit)s OFFSET %(offset)s
"""

_SAMPLES_WHERE = (
    "ven_id = %(ven)s AND ts >= %(start)s AND ts < %(end)s AND (%(load)s::text IS NULL OR load_id = %(load)s)"
)
# A view since ingest migration 0002: the per-load arrays of each reading, unnested.
_SAMPLES = f"""
SELECT ts AS timestamp, load_id AS "loadId", current_power_kw AS "currentPowerKw",
  shed_capability_kw AS "shedCapabilityKw", enabled
FROM ven_load_samples WHERE {_SAMPLES_WHERE}
ORDER BY ts DESC, load_id LIMIT %(limit)s OFFSET %(offset)s
"""

#: Rollup table of each coarser resolution.
ROLLUPS: dict[Resolution, str] = {"1m": "ven_telemetry_1m", "15m": "ven_telemetry_15m"}
_ROLLUP_WHERE = "ven_id = %(ven)s AND bucket >= %(start)s AND bucket < %(end)s"
_ROLLUP = """
SELECT bucket AS timestamp, (used_sum / samples)::float8 AS "usedPowerKw",
  (shed_sum / nullif(shed_samples, 0))::float8 AS "shedPowerKw", NULL::float8 AS "requestedReductionKw",
  NULL::text AS "eventId", NULL::float8 AS "batterySoc", samples,
  used_min AS "usedPowerKwMin", used_max AS "usedPowerKwMax",
  shed_min AS "shedPowerKwMin", shed_max AS "shedPowerKwMax",
  (baseline_sum / nullif(baseline_samples, 0))::float8 AS "baselinePowerKw"
FROM {table} WHERE {where}
ORDER BY bucket DESC LIMIT %(limit)s OFFSET %(offset)s
"""

_NETWORK = f"""
WITH v AS (
  SELECT v.*, {sql.ONLINE} AS online,
    (SELECT sum({num("l", "currentPowerKw")}) FROM jsonb_array_elements(v.loads) l
      WHERE coalesce({num("l", "shedCapabilityKw")}, 0) > 0) AS controllable_kw
  FROM vens v WHERE v.deleted_at IS NULL
)
SELECT count(*) AS "venCount", count(*) FILTER (WHERE online) AS "onlineVens",
  coalesce(sum(controllable_kw) FILTER (WHERE online), 0) AS "controllablePowerKw",
  coalesce(sum(shed_availability_kw) FILTER (WHERE online), 0) AS "potentialLoadReductionKw",
  coalesce(sum(current_power_kw) FILTER (WHERE online), 0) AS "householdUsageKw",
  coalesce(sum(shed_power_kw) FILTER (WHERE online AND active_event_id IS NOT NULL), 0)
    AS "currentLoadReductionKw"
FROM v
"""

_LOADS = f"""
SELECT coalesce(l->>'type', 'other') AS type,
  coalesce(sum({num("l", "capacityKw")}), 0) AS "totalCapacityKw",
  coalesce(sum({num("l", "shedCapabilityKw")}), 0) AS "totalShedCapabilityKw",
  coalesce(sum({num("l", "currentPowerKw")}) FILTER (WHERE {sql.ONLINE}), 0) AS "currentUsageKw"
FROM vens v CROSS JOIN LATERAL jsonb_array_elements(v.loads) l
WHERE v.deleted_at IS NULL
GROUP BY 1 ORDER BY 1
"""


def _load(item: dict[str, Any]) -> dict[str, Any]:
    """A stored load reading -> the contract's load object."""
    return {
        "id": item.get("loadId", item.get("id")),
        "type": item.get("type"),
        "name": item.get("name"),
        "capacityKw": item.get("capacityKw"),
        "shedCapabilityKw": item.get("shedCapabilityKw"),
        "currentPowerKw": item.get("currentPowerKw"),
        "enabled": item.get("enabled"),
    }


def _ven(row: dict[str, Any]) -> dict[str, Any]:
    lat, lon = row.pop("location_lat"), row.pop("location_lon")
    row["location"] = None if lat is None or lon is None else {"lat": lat, "lon": lon}
    row["loads"] = [_load(item) for item in row["loads"] if isinstance(item, dict)]
    row["metrics"] = {
        "currentPowerKw": row.pop("current_power_kw"),
        "shedAvailabilityKw": row.pop("shed_availability_kw"),
        "activeEventId": row.pop("active_event_id"),
        "shedLoadIds": row.pop("shed_load_ids"),
    }
    return row


class PgQueries:
    """Every read endpoint's query; rows come back as camelCase dicts.

    `online_intervals`: the online window in report intervals (setting
    VEN_ONLINE_MISSED_INTERVALS, shared with the dispatcher), passed to every query.
    """

    def __init__(self, pool: Pool, online_intervals: float = ONLINE_MISSED_INTERVALS) -> None:
        self._pool = pool
        self._online = {"online_intervals": online_intervals}

    async def _all(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params | self._online, prepare=True)
            return await cur.fetchall()

    async def _one(self, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
        rows = await self._all(query, params)
        return rows[0] if rows else None

    async def events(self, page: Page, status: str | None) -> list[dict[str, Any]]:
        return await self._all(_EVENTS, {"status": status, **_page(page)})

    async def current_events(self, page: Page) -> list[dict[str, Any]]:
        return await self._all(_CURRENT, _page(page))

    async def history(self, window: Window, page: Page) -> list[dict[str, Any]]:
        params = {"start": window.start, "end": window.end, "longest": MAX_EVENT_DURATION}
        return await self._all(_HISTORY, params | _page(page))

    async def event_detail(self, event_id: str, with_vens: bool) -> dict[str, Any] | None:
        """The event with its live metrics (and per-VEN participation), or None."""
        return await self._one(_EVENT_DETAIL if with_vens else sql.EVENT_DETAIL, {"event": event_id})

    async def vens(self, page: Page) -> list[dict[str, Any]]:
        return [_ven(row) for row in await self._all(_VENS, _page(page))]

    async def ven(self, ven_id: str) -> dict[str, Any] | None:
        row = await self._one(_VEN, {"ven": ven_id})
        return None if row is None else _ven(row)

    async def _series(
        self, ven_id: str, rows_sql: str, where: str, table: str, params: dict[str, Any]
    ) -> tuple[int, list[dict[str, Any]]] | None:
        """(total in window, one page) of a VEN's time series, or None for an unknown VEN.

        One read-only snapshot for the count and the page: rows stored between two
        autocommit statements would make `totalCount` disagree with the rows.
        """
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur = await conn.execute(_LIVE, {"ven": ven_id}, prepare=True)
            if await cur.fetchone() is None:
                return None
            cur = await conn.execute(f"SELECT count(*) AS n FROM {table} WHERE {where}", params)
            counted = await cur.fetchone()
            assert counted is not None  # count(*) always answers
            total = counted["n"]
            cur = await conn.execute(rows_sql, params, prepare=True)
            return total, await cur.fetchall()

    async def telemetry(
        self, ven_id: str, window: Window, page: Page, resolution: Resolution = "raw"
    ) -> tuple[int, list[dict[str, Any]]] | None:
        """Readings, or for "1m"/"15m" the rollup buckets that start in the window."""
        params = {"ven": ven_id, "start": window.start, "end": window.end, **_page(page)}
        if resolution == "raw":
            return await self._series(ven_id, _TELEMETRY, _TELEMETRY_WHERE, "ven_telemetry", params)
        table = ROLLUPS[resolution]
        rows = _ROLLUP.format(table=table, where=_ROLLUP_WHERE)
        return await self._series(ven_id, rows, _ROLLUP_WHERE, table, params)

    async def acks(self, ven_id: str, window: Window, page: Page) -> tuple[int, list[dict[str, Any]]] | None:
        params = {"ven": ven_id, "start": window.start, "end": window.end, **_page(page)}
        return await self._series(ven_id, _ACKS, _TELEMETRY_WHERE, "ven_acks", params)

    async def circuit_history(
        self, ven_id: str, load_id: str | None, window: Window, page: Page
    ) -> tuple[int, list[dict[str, Any]]] | None:
        params = {"ven": ven_id, "load": load_id, "start": window.start, "end": window.end, **_page(page)}
        return await self._series(ven_id, _SAMPLES, _SAMPLES_WHERE, "ven_load_samples", params)

    async def network_stats(self) -> dict[str, Any]:
        row = await self._one(_NETWORK, {})
        assert row is not None
        return row

    async def load_stats(self) -> list[dict[str, Any]]:
        return await self._all(_LOADS, {})


def _page(page: Page) -> dict[str, int]:
    return {"limit": page.limit, "offset": page.offset}
