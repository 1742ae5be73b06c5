"""Read endpoints on the Postgres projections: one or two indexed queries per request."""

from __future__ import annotations

from typing import Any

from api.adapters import Pool, sql
from api.adapters.sql import num
from api.domain.ack_table import SortTerm
from api.domain.delivery import Buckets
from api.domain.resolution import Resolution
from api.ports import Page, Window
from dr_contracts.commands import EVENT_OPS
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

#: The event's (`e`) VENs: its allocation once activated, else the targeted venIds
#: (allocated_kw NULL). venIds NULL (every online VEN) names none before activation.
_EVENT_VEN_SET = """
  SELECT ev.ven_id, ev.allocated_kw FROM event_vens ev WHERE ev.event_id = e.event_id
  UNION ALL
  SELECT unnest(e.ven_ids), NULL
  WHERE NOT EXISTS (SELECT 1 FROM event_vens ev WHERE ev.event_id = e.event_id)
"""
_EVENT_OPS = ", ".join(f"'{op}'" for op in sorted(EVENT_OPS))
#: Of a VEN's commands of one op in an event, the one its row shows: the one issued last
#: (a command never issued counts as the oldest).
_NEWEST_FIRST = "c.first_issued_at DESC NULLS LAST"
# Per-VEN participation: each VEN of the set with the outcome of its event command. The
# commands are read once for the whole event and hash-joined: an event may have 10,000 VENs.
_EVENT_VEN_ROWS = f"""
  SELECT t.ven_id AS "venId", v.name AS "venName", coalesce(t.allocated_kw, 0) AS "shedKw",
    c.actual_shed_kw AS "actualShedKw", c.latency_ms AS "responseMs",
    coalesce(c.outcome, CASE WHEN t.allocated_kw IS NULL THEN 'targeted' ELSE 'allocated' END)
      AS status,
    c.attempts, c.acked_at AS "ackedAt", c.correlation_id
  FROM ({_EVENT_VEN_SET}) t
  LEFT JOIN vens v ON v.ven_id = t.ven_id
  LEFT JOIN (
    SELECT DISTINCT ON (c.ven_id) c.ven_id, c.outcome, c.actual_shed_kw, c.latency_ms, c.attempts,
      c.acked_at, c.correlation_id
    FROM ven_commands c WHERE c.event_id = e.event_id AND c.op IN ({_EVENT_OPS})
    ORDER BY c.ven_id, {_NEWEST_FIRST}
  ) c ON c.ven_id = t.ven_id
"""
# The detail's `vens`: one JSON array, in the same round trip as the event.
_EVENT_VENS = f"""
SELECT coalesce(json_agg(p ORDER BY p."venId"), '[]') FROM (
  SELECT "venId", "venName", "shedKw", "actualShedKw", "responseMs", status FROM ({_EVENT_VEN_ROWS}) r
) p
"""
_EVENT_DETAIL = f"""
SELECT {sql.EVENT_COLUMNS}, {sql.EVENT_METRICS}, ({_EVENT_VENS}) AS vens
FROM events e WHERE e.event_id = %(event)s
"""

# The VEN table of an event, filtered, counted, and one page in `{order}`. The rows are
# computed once (the CTE is read twice, so materialised); the circuits and the restore are
# looked up for the page's rows only: an event may have 10,000 VENs.
_EVENT_ACKS = f"""
WITH r AS (
  SELECT p.* FROM events e CROSS JOIN LATERAL ({_EVENT_VEN_ROWS}) p
  WHERE e.event_id = %(event)s AND (%(status)s::text IS NULL OR p.status = %(status)s)
    AND {sql.ven_matches('p."venId"', 'p."venName"')}
)
SELECT (SELECT count(*) FROM r) AS "totalCount", (
  SELECT coalesce(json_agg(a ORDER BY {{order}}), '[]') FROM (
    SELECT page."venId", page."venName", page."shedKw", page."actualShedKw", page."responseMs",
      page.status, page.attempts, page."ackedAt",
      coalesce(k.circuits_curtailed, '[]') AS "circuitsCurtailed", rc.outcome AS "restoreStatus"
    FROM (SELECT * FROM r ORDER BY {{order}} LIMIT %(limit)s OFFSET %(offset)s) page
    LEFT JOIN LATERAL (
      SELECT k.circuits_curtailed FROM ven_acks k WHERE k.correlation_id = page.correlation_id
      ORDER BY k.ts DESC, k.fact_id DESC LIMIT 1
    ) k ON true
    LEFT JOIN LATERAL (
      SELECT c.outcome FROM ven_commands c
      WHERE c.event_id = e.event_id AND c.ven_id = page."venId" AND c.op = 'restore'
      ORDER BY {_NEWEST_FIRST} LIMIT 1
    ) rc ON true
  ) a
) AS acks
FROM events e WHERE e.event_id = %(event)s
"""

# What demo.py showed straight from ven_commands: timedOut counts every command of the event,
# restores included ("commands timed out"); the other outcomes are the event commands'.
_IS_EVENT_OP = f"c.op IN ({_EVENT_OPS})"
_EVENT_COMMANDS = f"""
SELECT count(c.op) AS sent, count(*) FILTER (WHERE {_IS_EVENT_OP}) AS "eventCommands",
  count(*) FILTER (WHERE {_IS_EVENT_OP} AND c.outcome = 'acked') AS acked,
  count(*) FILTER (WHERE {_IS_EVENT_OP} AND c.outcome = 'rejected') AS rejected,
  count(*) FILTER (WHERE {_IS_EVENT_OP} AND c.outcome = 'failed') AS failed,
  count(*) FILTER (WHERE {_IS_EVENT_OP} AND c.outcome = 'pending') AS pending,
  count(*) FILTER (WHERE c.outcome = 'timed_out') AS "timedOut",
  count(*) FILTER (WHERE c.op = 'restore') AS restores,
  count(*) FILTER (WHERE c.op = 'restore' AND c.outcome = 'acked') AS "restoresAcked",
  coalesce(sum(c.attempts - 1) FILTER (WHERE c.attempts > 1), 0) AS retries,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.latency_ms) FILTER (WHERE {_IS_EVENT_OP}) AS "latencyP50Ms",
  percentile_cont(0.99) WITHIN GROUP (ORDER BY c.latency_ms) FILTER (WHERE {_IS_EVENT_OP}) AS "latencyP99Ms"
FROM events e
LEFT JOIN ven_commands c ON c.event_id = e.event_id AND c.op IN ({_EVENT_OPS}, 'restore')
WHERE e.event_id = %(event)s
GROUP BY e.event_id
"""

# Delivered kW per bucket: each VEN's mean shed in it, summed over the VENs. Each VEN's
# readings are a range of the primary key (ven_id, ts) in [first, end): the per-VEN
# aggregate keeps the planner on it (no index serves readings by event or by time alone).
#: Whose readings make an event's delivered kW: its VENs, and the OpenADR VENs that reported
#: on it (they get no command: docs/openadr.md#reports).
_DELIVERY_VEN_SET = f"""
  {_EVENT_VEN_SET}
  UNION
  SELECT o.ven_id, NULL FROM oadr_objects o
  WHERE o.object_type = 'REPORT' AND o.body->>'eventID' = e.event_id AND o.ven_id IS NOT NULL
"""
_DELIVERY = f"""
SELECT bucket AS timestamp, coalesce(sum(kw), 0) AS "deliveredKw", count(*) AS "vensReporting"
FROM events e CROSS JOIN LATERAL ({_DELIVERY_VEN_SET}) t
CROSS JOIN LATERAL (
  SELECT date_bin(%(step)s, r.ts, %(origin)s) AS bucket, avg(r.shed_power_kw) AS kw
  FROM ven_telemetry r
  WHERE r.ven_id = t.ven_id AND r.ts >= %(first)s AND r.ts < %(end)s AND r.event_id = e.event_id
  GROUP BY 1
) per_ven
WHERE e.event_id = %(event)s
GROUP BY bucket ORDER BY bucket
"""
#: The event as listed, with the report interval of its slowest VEN (the delivery chart's
#: shortest bucket).
_DELIVERY_EVENT = f"""
SELECT {sql.EVENT_COLUMNS}, (
  SELECT max(v.report_interval_s) FROM ({_DELIVERY_VEN_SET}) t JOIN vens v ON v.ven_id = t.ven_id
) AS "reportIntervalS"
FROM events e WHERE e.event_id = %(event)s
"""

_FRESHNESS = """
SELECT now() AS now,
  (SELECT max(last_seen) FROM vens WHERE deleted_at IS NULL) AS "newestReadingAt",
  (SELECT max(updated_at) FROM projection_offsets) AS "projectedAt"
"""

_VEN_COLUMNS = f"""
  v.ven_id AS id, v.name, {sql.VEN_STATUS} AS status, v.location_lat, v.location_lon,
  v.created_at AS "createdAt", v.last_seen AS "lastSeen", v.loads,
  v.current_power_kw, v.shed_availability_kw, v.active_event_id, v.shed_load_ids
"""
_VENS = f"""
SELECT {_VEN_COLUMNS} FROM vens v
WHERE v.deleted_at IS NULL AND (%(status)s::text IS NULL OR {sql.VEN_STATUS} = %(status)s)
  AND {sql.ven_matches("v.ven_id", "v.name")}
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

    async def event_acks(
        self, event_id: str, order: tuple[SortTerm, ...], status: str | None, q: str | None, page: Page
    ) -> dict[str, Any] | None:
        """`{totalCount, acks}`: one page of the event's VEN table, or None for an unknown event."""
        terms = ", ".join(f'"{t.key}" {"DESC" if t.descending else "ASC"} NULLS LAST' for t in order)
        params = {"event": event_id, "status": status, "q": q, **_page(page)}
        return await self._one(_EVENT_ACKS.format(order=terms), params)

    async def event_commands(self, event_id: str) -> dict[str, Any] | None:
        """Counts and latencies of the event's commands, or None for an unknown event."""
        return await self._one(_EVENT_COMMANDS, {"event": event_id})

    async def delivery_event(self, event_id: str) -> dict[str, Any] | None:
        """The event as listed, with `reportIntervalS` of its slowest VEN (None: no VEN), or None."""
        return await self._one(_DELIVERY_EVENT, {"event": event_id})

    async def delivery(self, event_id: str, buckets: Buckets) -> list[dict[str, Any]]:
        """`{timestamp, deliveredKw, vensReporting}` of each bucket of `buckets` that has readings."""
        params = {"event": event_id, "step": buckets.step, "origin": buckets.origin}
        return await self._all(_DELIVERY, params | {"first": buckets.first, "end": buckets.end})

    async def vens(self, page: Page, status: str | None, q: str | None) -> list[dict[str, Any]]:
        """By venId; only those shown with `status`, and whose venId or name contains `q`."""
        params = {"status": status, "q": q, **_page(page)}
        return [_ven(row) for row in await self._all(_VENS, params)]

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

    async def freshness(self) -> dict[str, Any]:
        row = await self._one(_FRESHNESS, {})
        assert row is not None
        return row

    async def load_stats(self) -> list[dict[str, Any]]:
        return await self._all(_LOADS, {})


def _page(page: Page) -> dict[str, int]:
    return {"limit": page.limit, "offset": page.offset}
