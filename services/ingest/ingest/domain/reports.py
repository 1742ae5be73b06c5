"""An OpenADR VEN's report as readings of that VEN (docs/openadr.md#reports).

The report fact (OadrObjectWritten of a REPORT, with the platform venId the facade resolved)
is projected twice: as the report object, and, through dr_contracts.openadr_reports, as
the VEN's telemetry, so its VEN shows online with its power, and an event it reports on
counts its shed. Each reading's id is the fact's plus its place, so a redelivered report
gives the same readings, which (venId, ts) keeps once.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from dr_contracts.facts import OadrObjectWritten
from dr_contracts.openadr_reports import report_readings
from dr_contracts.rejection import Rejected
from dr_contracts.rules import OPENADR_SOURCE
from ingest.domain.readings import Reading

log = structlog.get_logger(__name__)


def readings_of_report(fact_id: str, fact: OadrObjectWritten, at: datetime) -> list[Reading]:
    """The readings of a REPORT fact (none for other objects, or a report of no platform VEN)."""
    if fact.objectType != "REPORT" or fact.venId is None:
        return []
    try:
        found = report_readings(fact.body)
    except Rejected as err:  # the facade checked it; a report written otherwise stops nothing
        log.warning("report.unreadable", fact_id=fact_id, reason=err.reason)
        return []
    event_id = fact.body.get("eventID")
    return [
        Reading(
            fact_id=f"{fact_id}#{n}",
            ven_id=fact.venId,
            ts=r.ts,
            received_at=at,
            occurred_at=at,
            used_power_kw=r.demand_kw,
            shed_power_kw=r.shed_kw,
            requested_reduction_kw=None,
            event_id=event_id if isinstance(event_id, str) else None,
            baseline_power_kw=r.baseline_kw,
            battery_soc=None,
            loads=[],
            panel={},
            extras={"reportIntervalSeconds": r.interval_s} if r.interval_s else {},
            circuits={},
            source=OPENADR_SOURCE,
        )
        for n, r in enumerate(found)
    ]
