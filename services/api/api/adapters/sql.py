"""SQL fragments shared by the read-model adapters (tables: ingest's 0001_projections.sql)."""

from __future__ import annotations

#: A VEN is online while its last reading is younger than three report intervals.
ONLINE = "(v.last_seen >= now() - make_interval(secs => 3 * v.report_interval_s))"

#: Shown VEN status: an administrative override, else online/offline from telemetry.
VEN_STATUS = (
    "CASE WHEN v.admin_status IN ('maintenance', 'disabled') THEN v.admin_status "
    f"WHEN {ONLINE} THEN 'online' ELSE 'offline' END"
)

#: An event created with `status: active` shows as active before the dispatcher starts it,
#: and as stopped once a stop was asked for (the projector marks only started ones).
EVENT_STATUS = (
    "CASE WHEN e.status = 'scheduled' AND e.stop_requested_at IS NOT NULL THEN 'stopped' "
    "WHEN e.status = 'scheduled' AND e.start_now THEN 'active' ELSE e.status END"
)

EVENT_COLUMNS = f"""
    e.event_id AS id, {EVENT_STATUS} AS status,
    e.start_time AS "startTime", e.end_time AS "endTime",
    e.requested_reduction_kw AS "requestedReductionKw",
    e.actual_reduction_kw AS "actualReductionKw", e.ven_ids AS "venIds",
    e.created_at AS "createdAt", e.activated_at AS "activatedAt", e.ended_at AS "endedAt",
    e.stop_requested_at AS "stopRequestedAt",
    e.allocated_kw AS "allocatedKw", e.unallocated_kw AS "unallocatedKw"
"""


#: The event's live numbers: reduction reported now by the online VENs taking part, and the
#: ack aggregates the projector keeps (VENs that acked the event command, mean latency).
EVENT_METRICS = f"""
  (SELECT coalesce(sum(v.shed_power_kw), 0) FROM vens v
    WHERE v.active_event_id = e.event_id AND v.deleted_at IS NULL AND {ONLINE})
    AS "currentReductionKw",
  e.acked_count AS "vensResponding", coalesce(e.avg_response_ms, 0) AS "avgResponseMs"
"""

EVENT_BY_ID = f"SELECT {EVENT_COLUMNS} FROM events e WHERE e.event_id = %s"
EVENT_DETAIL = f"SELECT {EVENT_COLUMNS}, {EVENT_METRICS} FROM events e WHERE e.event_id = %s"


def num(obj: str, key: str) -> str:
    """A numeric field of a jsonb object, NULL when absent or not a number."""
    return f"(CASE WHEN jsonb_typeof({obj}->'{key}') = 'number' THEN ({obj}->>'{key}')::float8 END)"
