"""OpenADR 3 events <-> platform events: the one home of the mapping (docs/openadr.md#mapping).

An event the platform can run is one interval with one `DISPATCH_SETPOINT_RELATIVE` value
in kW (a positive value is the reduction asked for), a start and a duration. It becomes an
EventCreated that carries its program and the object as sent, so the dispatcher runs it
like any other and the facade serves it back unchanged. Anything else is refused with 400
and the reason, before any fact is written. The platform's own rules (start not in the
past, end in the future, longest duration, largest kW) are those of `POST /api/events`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from api.domain import events
from api.domain.errors import Collector, Invalid, Problem
from api.domain.limits import Limits
from api.openadr.bodies import EventBody, IntervalPeriod
from api.openadr.kinds import hide_targets, shown
from dr_contracts.facts import EventCreated

PAYLOAD_TYPE = "DISPATCH_SETPOINT_RELATIVE"
UNITS = "KW"
#: The program of events created over /api/events (served, never stored; docs/openadr.md).
DEFAULT_PROGRAM_ID = "platform"
#: The spec's "start now" (Definition.md: a start of 0001-01-01 "may indicate now").
_NOW = datetime(1, 1, 1, tzinfo=UTC)
#: The REST rule's field -> where the OpenADR event holds it.
_FIELDS = {
    "startTime": "intervalPeriod.start",
    "endTime": "intervalPeriod.duration",
    "requestedReductionKw": "intervals[0].payloads[0].values[0]",
}
_DURATION = TypeAdapter(timedelta)


def plan(body: EventBody, event_id: str, now: datetime, limits: Limits) -> EventCreated:
    """The EventCreated of a mappable event (venIds left to the caller), else Invalid with why."""
    problems = Collector()
    kw = _value(body, problems)
    period = _period(body, problems)
    problems.raise_if_any()
    assert kw is not None and period is not None and period.duration is not None
    start_now = period.start == _NOW
    request = events.NewEvent(
        startTime=None if start_now else period.start,
        endTime=(now if start_now else period.start) + period.duration,
        requestedReductionKw=kw,
        status="active" if start_now else "scheduled",
    )
    try:
        fact = events.plan_event(request, event_id, now, limits)
    except Invalid as err:
        raise Invalid(
            [Problem(_FIELDS.get(p.field, p.field), p.reason, p.code) for p in err.problems]
        ) from None
    return fact.model_copy(update={"programId": body.programID})


def dispatch_terms(body: EventBody) -> tuple[object, ...]:
    """What the platform runs of an event: program, start, duration, kW, targets (Invalid if
    unmappable). A PUT may change anything else; these only by a new event."""
    problems = Collector()
    kw, period = _value(body, problems), _period(body, problems)
    problems.raise_if_any()
    assert period is not None
    return body.programID, period.start, period.duration, kw, frozenset(body.targets or ())


def _value(body: EventBody, problems: Collector) -> float | None:
    """The kW to shed: the one value of the one DISPATCH_SETPOINT_RELATIVE payload, in KW."""
    if len(body.intervals) != 1:
        problems.add(
            "intervals", f"has {len(body.intervals)} intervals: this VTN runs events of one", "unsupported"
        )
        return None
    payloads = body.intervals[0].payloads
    if len(payloads) != 1 or payloads[0].type != PAYLOAD_TYPE:
        kinds = ", ".join(p.type for p in payloads)
        problems.add(
            "intervals[0].payloads", f"is {kinds}: this VTN runs one {PAYLOAD_TYPE} payload", "unsupported"
        )
        return None
    units = {d.units for d in body.payloadDescriptors or () if d.payloadType == PAYLOAD_TYPE}
    if units != {UNITS}:
        problems.add(
            "payloadDescriptors",
            f"must describe {PAYLOAD_TYPE} with units {UNITS} (found {sorted(map(str, units)) or 'none'})",
            "unsupported",
        )
    values = payloads[0].values
    value = values[0] if len(values) == 1 else None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        problems.add(
            "intervals[0].payloads[0].values",
            "must be one number of kW to shed, greater than 0",
            "invalid_value",
        )
        return None
    return float(value)


def _period(body: EventBody, problems: Collector) -> IntervalPeriod | None:
    """Start and duration: the interval's own period, else the event's."""
    period = body.intervals[0].intervalPeriod or body.intervalPeriod
    if period is None:
        problems.add("intervalPeriod", "is required (a start and a duration)", "missing_field")
        return None
    if period.randomizeStart:
        problems.add("intervalPeriod.randomizeStart", "is not supported by this VTN", "unsupported")
    if period.duration is None or period.duration <= timedelta(0):
        problems.add("intervalPeriod.duration", "is required and must be longer than PT0S", "missing_field")
    elif body.duration is not None and body.duration != period.duration:
        problems.add("duration", "differs from the interval's duration", "invalid_value")
    return period


def row_of(fact: EventCreated, at: datetime) -> dict[str, Any]:
    """The `events` row an EventCreated makes, as `render` takes it (the notifier's)."""
    return {
        "event_id": fact.eventId,
        "program_id": fact.programId,
        "openadr": fact.openadr,
        "start_time": fact.startTime,
        "end_time": fact.endTime,
        "requested_reduction_kw": fact.requestedReductionKw,
        "ven_ids": fact.venIds,
        "created_at": at,
        "updated_at": at,
    }


def targets_of(row: dict[str, Any]) -> list[str]:
    """What an event is targeted at: as sent over OpenADR, else the REST event's venIds."""
    if row["openadr"] is not None:
        return list(row["openadr"].get("targets", []))
    return list(row["ven_ids"] or [])


def render(row: dict[str, Any], shown_targets: set[str] | None = None) -> dict[str, Any]:
    """An `events` row as an OpenADR event object; `shown_targets` hides the others' targets."""
    body = hide_targets(row["openadr"] if row["openadr"] is not None else _synthesized(row), shown_targets)
    return shown("EVENT", row["event_id"], row["created_at"], row["updated_at"], body)


def _synthesized(row: dict[str, Any]) -> dict[str, Any]:
    """An event created over /api/events, as OpenADR would have said it."""
    duration = _DURATION.dump_python(row["end_time"] - row["start_time"], mode="json")
    body: dict[str, Any] = {
        "programID": DEFAULT_PROGRAM_ID,
        "eventName": row["event_id"],
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": PAYLOAD_TYPE, "units": UNITS}
        ],
        "intervalPeriod": {"start": row["start_time"].isoformat(), "duration": duration},
        "intervals": [
            {"id": 0, "payloads": [{"type": PAYLOAD_TYPE, "values": [row["requested_reduction_kw"]]}]}
        ],
    }
    if row["ven_ids"]:
        body["targets"] = list(row["ven_ids"])
    return body
