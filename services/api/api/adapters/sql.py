"""SQL fragments shared by the read-model adapters (tables: ingest's 0001_projections.sql).

The rules come from dr_contracts.rules: the shown event status is generated from
`shown_status`, the online window is the query parameter `online_intervals` (the shared
setting VEN_ONLINE_MISSED_INTERVALS; `PgQueries` passes it to every query).
"""

from __future__ import annotations

from itertools import product

from dr_contracts.rules import EVENT_STATUSES, EventStatus, shown_status

#: A VEN is online while its last reading is at most `online_intervals` report intervals old.
ONLINE = "(v.last_seen >= now() - make_interval(secs => %(online_intervals)s * v.report_interval_s))"

#: Shown VEN status: an administrative override, else online/offline from telemetry.
VEN_STATUS = (
    "CASE WHEN v.admin_status IN ('maintenance', 'disabled') THEN v.admin_status "
    f"WHEN {ONLINE} THEN 'online' ELSE 'offline' END"
)


def ven_matches(ven_id: str, name: str) -> str:
    """The VEN text search (`q`): the venId or the name contains it, case-insensitively.

    NULL `q` matches every row; `strpos`, not LIKE, so `%` and `_` in `q` are plain text."""
    return (
        f"(%(q)s::text IS NULL OR strpos(lower({ven_id}), lower(%(q)s)) > 0 "
        f"OR strpos(lower({name}), lower(%(q)s)) > 0)"
    )


#: `shown_status` tabulated over its inputs: (stored, start_now, stop requested, shown).
_SHOWN = [
    (stored, start_now, stop, shown_status(stored, start_now=start_now, stop_requested=stop))
    for stored, start_now, stop in product(EVENT_STATUSES, (False, True), (False, True))
]


def _event_status() -> str:
    """`shown_status` as a CASE over an `events` row: the rows of its table where it differs."""
    whens = (
        f"WHEN e.status = '{stored}' AND {'' if start_now else 'NOT '}e.start_now "
        f"AND e.stop_requested_at IS {'NOT ' if stop else ''}NULL THEN '{shown}'"
        for stored, start_now, stop, shown in _SHOWN
        if shown != stored
    )
    return f"CASE {' '.join(whens)} ELSE e.status END"


#: The status clients see (rules.shown_status) of the `events` row `e`.
EVENT_STATUS = _event_status()


def stored_statuses(shown: EventStatus) -> str:
    """The stored statuses that may show as `shown`, as a SQL list (a prefilter the index serves)."""
    return ", ".join(sorted({f"'{stored}'" for stored, _, _, s in _SHOWN if s == shown}))


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
#: ack aggregates the projector keeps (VENs that acked the event command, mean latency). An
#: OpenADR VEN gets no command: it responds by reporting on the event (docs/openadr.md#reports).
EVENT_METRICS = f"""
  (SELECT coalesce(sum(v.shed_power_kw), 0) FROM vens v
    WHERE v.active_event_id = e.event_id AND v.deleted_at IS NULL AND {ONLINE})
    AS "currentReductionKw",
  e.acked_count + (SELECT count(DISTINCT o.client_id) FROM oadr_objects o
    WHERE o.object_type = 'REPORT' AND o.body->>'eventID' = e.event_id) AS "vensResponding",
  coalesce(e.avg_response_ms, 0) AS "avgResponseMs"
"""

EVENT_BY_ID = f"SELECT {EVENT_COLUMNS} FROM events e WHERE e.event_id = %(event)s"
EVENT_DETAIL = f"SELECT {EVENT_COLUMNS}, {EVENT_METRICS} FROM events e WHERE e.event_id = %(event)s"


def num(obj: str, key: str) -> str:
    """A numeric field of a jsonb object, NULL when absent or not a number."""
    return f"(CASE WHEN jsonb_typeof({obj}->'{key}') = 'number' THEN ({obj}->>'{key}')::float8 END)"
