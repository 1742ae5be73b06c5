"""The SQL of each projection: one set-based statement per table and batch.

Rows go in as arrays (`unnest`), sorted by key so that concurrent transactions lock
rows in the same order. Every upsert is written so that the result does not depend on
which of two topics was projected first (see domain/commands.py and domain/vens.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from dr_contracts import jsonio
from ingest.domain.batch import Batch
from ingest.domain.readings import Layout
from ingest.domain.vens import metrics


def jsonb(value: Any) -> Jsonb:
    return Jsonb(value, dumps=jsonio.dumps)


def columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Row tuples -> one list per column (the arrays `unnest` takes, sent in binary)."""
    if not rows:
        return [[] for _ in range(width)]
    return [_uniform(list(col)) for col in zip(*rows, strict=True)]


def _uniform(column: list[Any]) -> list[Any]:
    """JSON numbers arrive as int or float; a binary array needs one element type."""
    kinds = {type(v) for v in column}
    if float in kinds and int in kinds:
        return [float(v) if type(v) is int else v for v in column]
    return column


#: Rollup upsert from the readings a statement newly stored (`new`): sums and counts add
#: up, extremes widen. Only new readings reach it, so a redelivery is never counted twice.
_ROLLUP = """
{name} AS (
    INSERT INTO {table} AS r
    SELECT ven_id, date_bin('{width}', ts, timestamptz '2000-01-01 00:00+00'), count(*),
           sum(used_power_kw::numeric), min(used_power_kw), max(used_power_kw),
           count(shed_power_kw), coalesce(sum(shed_power_kw::numeric), 0), min(shed_power_kw),
           max(shed_power_kw), count(baseline_power_kw), coalesce(sum(baseline_power_kw::numeric), 0)
    FROM new GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (ven_id, bucket) DO UPDATE SET
        samples = r.samples + excluded.samples,
        used_sum = r.used_sum + excluded.used_sum,
        used_min = least(r.used_min, excluded.used_min),
        used_max = greatest(r.used_max, excluded.used_max),
        shed_samples = r.shed_samples + excluded.shed_samples,
        shed_sum = r.shed_sum + excluded.shed_sum,
        shed_min = least(r.shed_min, excluded.shed_min),
        shed_max = greatest(r.shed_max, excluded.shed_max),
        baseline_samples = r.baseline_samples + excluded.baseline_samples,
        baseline_sum = r.baseline_sum + excluded.baseline_sum
)"""

# Per-load values travel as three flat arrays; each reading names its slice (first, count).
_TELEMETRY = f"""
WITH loads AS (SELECT %b::float8[] AS power, %b::float8[] AS capability, %b::bool[] AS enabled),
new AS (
    INSERT INTO ven_telemetry (ven_id, ts, used_power_kw, shed_power_kw, requested_reduction_kw,
                               event_id, baseline_power_kw, battery_soc, extras, received_at,
                               layout_id, load_power_kw, load_shed_capability_kw, load_enabled)
    SELECT n.ven_id, n.ts, n.used, n.shed, n.requested, n.event_id, n.baseline, n.soc, n.extras,
           n.received_at, n.layout_id,
           CASE WHEN n.count > 0 THEN loads.power[n.first:n.first + n.count - 1] END,
           CASE WHEN n.count > 0 THEN loads.capability[n.first:n.first + n.count - 1] END,
           CASE WHEN n.count > 0 THEN loads.enabled[n.first:n.first + n.count - 1] END
    FROM unnest(%b::text[], %b::timestamptz[], %b::float8[], %b::float8[], %b::float8[],
                %b::text[], %b::float8[], %b::float8[], %b::jsonb[], %b::timestamptz[],
                %b::int[], %b::int[], %b::int[])
         AS n(ven_id, ts, used, shed, requested, event_id, baseline, soc, extras, received_at,
              layout_id, first, count),
         loads
    ON CONFLICT DO NOTHING
    RETURNING ven_id, ts, used_power_kw, shed_power_kw, baseline_power_kw
),
{_ROLLUP.format(name="minute", table="ven_telemetry_1m", width="1 minute")},
{_ROLLUP.format(name="quarter", table="ven_telemetry_15m", width="15 minutes")}
SELECT 1
"""


async def write_readings(conn: AsyncConnection, batch: Batch, layouts: Mapping[Layout, int]) -> None:
    """New readings (per-load values as arrays in their layout's order) and their rollups;
    a reading already stored adds nothing."""
    readings: list[tuple[Any, ...]] = []
    power: list[Any] = []
    capability: list[Any] = []
    enabled: list[Any] = []
    for key in sorted(batch.readings):
        r = batch.readings[key]
        first = len(power) + 1
        for load in r.circuits.values():
            power.append(load.get("currentPowerKw"))
            capability.append(load.get("shedCapabilityKw"))
            enabled.append(load.get("enabled"))
        readings.append(
            (
                r.ven_id,
                r.ts,
                r.used_power_kw,
                r.shed_power_kw,
                r.requested_reduction_kw,
                r.event_id,
                r.baseline_power_kw,
                r.battery_soc,
                jsonb(r.extras),
                r.received_at,
                layouts[r.layout] if r.circuits else None,
                first,
                len(r.circuits),
            )
        )
    if readings:
        flat = [_uniform(power), _uniform(capability), enabled]
        await conn.execute(_TELEMETRY, [*flat, *columns(readings, 13)])


_REGISTER_SEEN = """
INSERT INTO vens (ven_id, name, source, created_at)
SELECT v, v, s, t FROM unnest(%b::text[], %b::text[], %b::timestamptz[]) AS n(v, s, t)
ON CONFLICT DO NOTHING
"""

#: Latest-reading columns: set only when the reading is newer than the one shown.
_METRIC_COLUMNS = {
    "last_reading_at": "timestamptz",
    "current_power_kw": "float8",
    "shed_power_kw": "float8",
    "baseline_power_kw": "float8",
    "shed_availability_kw": "float8",
    "battery_soc": "float8",
    "active_event_id": "text",
    "report_interval_s": "float8",
    "loads": "jsonb",
    "panel": "jsonb",
}
_NEWER = "(v.last_reading_at IS NULL OR n.last_reading_at > v.last_reading_at)"
_METRICS = f"""
UPDATE vens v SET
    last_seen = greatest(v.last_seen, n.received_at),
    created_at = least(v.created_at, n.occurred_at),
    {", ".join(f"{c} = CASE WHEN {_NEWER} THEN n.{c} ELSE v.{c} END" for c in _METRIC_COLUMNS)}
FROM unnest(%b::text[], %b::timestamptz[], %b::timestamptz[],
            {", ".join(f"%b::{t}[]" for t in _METRIC_COLUMNS.values())})
     AS n(ven_id, received_at, occurred_at, {", ".join(_METRIC_COLUMNS)})
WHERE v.ven_id = n.ven_id
"""


async def write_ven_metrics(conn: AsyncConnection, batch: Batch) -> None:
    """Register VENs first seen in telemetry, then show each VEN's newest reading."""
    rows = []
    for ven_id in sorted(batch.latest):
        r = batch.latest[ven_id]
        first_seen, last_received = batch.seen[ven_id]
        m = metrics(r)
        rows.append(
            (
                ven_id,
                last_received,
                first_seen,
                r.ts,
                r.used_power_kw,
                r.shed_power_kw,
                r.baseline_power_kw,
                m.shed_availability_kw,
                r.battery_soc,
                r.event_id,
                m.report_interval_s,
                jsonb(m.loads),
                jsonb(r.panel),
            )
        )
    if rows:
        cols = columns(rows, 13)
        sources = [batch.latest[ven_id].source for ven_id in cols[0]]
        await conn.execute(_REGISTER_SEEN, [cols[0], sources, cols[2]])
        await conn.execute(_METRICS, cols)


_REJECTIONS = """
INSERT INTO ingest_rejections (fact_id, mqtt_topic, code, field, reason, received_at, size_bytes,
                               raw_b64)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[],
                     %b::timestamptz[], %b::int[], %b::text[])
ON CONFLICT DO NOTHING
"""


async def write_rejections(conn: AsyncConnection, batch: Batch) -> None:
    """Refused MQTT payloads, for operators."""
    rows = [
        (fact_id, p.mqttTopic, p.code, p.field, p.reason, p.receivedAt, p.sizeBytes, p.rawB64)
        for fact_id, (p, _) in sorted(batch.rejections.items())
    ]
    if rows:
        await conn.execute(_REJECTIONS, columns(rows, 8))
