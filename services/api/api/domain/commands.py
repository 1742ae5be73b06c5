"""`POST /api/vens/{venId}/send-event`: one direct command to one VEN, old-backend style.

Decisions:
- `op` is `event` (default), its synonym `shedPanel`, or `restore` (give the loads back).
- The shed amount may be spelled `shedKw`, `requestedReductionKw` or `shed_kw` (one of
  them, required for event ops); the duration `durationSec`, `duration_sec`, `duration_s`,
  `durationS` (seconds) or `durationMinutes` (one of them; default 3600 s, at most 7 days).
- `eventId` is optional; the command carries a fresh `evt-` id when none is given,
  because firmware reads one. A `restore` takes no amount or duration.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import combinations
from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from api.domain.errors import Collector
from api.domain.fields import Kw, Minutes, RequestBody, Seconds, VenId, omittable
from api.domain.limits import MAX_DURATION, Limits
from dr_contracts.commands import event_command, restore_command
from dr_contracts.facts import CommandRequested

DEFAULT_DURATION = timedelta(hours=1)
_SHED_FIELDS = ("shedKw", "requestedReductionKw", "shed_kw")
_SECOND_FIELDS = ("durationSec", "duration_sec", "duration_s", "durationS")
#: The rules of `plan_command` in JSON Schema: a restore carries no amount or duration; any
#: other op exactly one amount spelling and at most one duration spelling.
_RULES_SCHEMA: JsonDict = {
    "anyOf": [
        {
            "required": ["op"],
            "properties": {"op": {"const": "restore"}},
            "propertyNames": {"enum": ["op", "eventId"]},
        },
        {
            "properties": {"op": {"enum": ["event", "shedPanel"]}},
            "oneOf": [{"required": [name]} for name in _SHED_FIELDS],
            "not": {
                "anyOf": [
                    {"required": list(pair)} for pair in combinations((*_SECOND_FIELDS, "durationMinutes"), 2)
                ]
            },
        },
    ]
}


class SendCommand(RequestBody):
    """Body of `POST /api/vens/{venId}/send-event`."""

    model_config = ConfigDict(json_schema_extra=_RULES_SCHEMA)

    op: Literal["event", "shedPanel", "restore"] = "event"
    shedKw: Kw | None = omittable()
    requestedReductionKw: Kw | None = omittable()
    shed_kw: Kw | None = omittable()
    durationSec: Seconds | None = omittable()
    duration_sec: Seconds | None = omittable()
    duration_s: Seconds | None = omittable()
    durationS: Seconds | None = omittable()
    durationMinutes: Minutes | None = omittable()
    eventId: VenId | None = Field(default=None, description="event id the VEN reports back")


def plan_command(
    ven_id: str,
    req: SendCommand,
    *,
    correlation_id: str,
    event_id: str,
    now: datetime,
    limits: Limits,
) -> CommandRequested:
    """The CommandRequested fact the dispatcher turns into an MQTT command, or Invalid."""
    problems = Collector()
    given = req.model_fields_set
    shed_fields = [f for f in _SHED_FIELDS if f in given]
    duration_fields = [f for f in (*_SECOND_FIELDS, "durationMinutes") if f in given]
    if req.op == "restore":
        for field in (*shed_fields, *duration_fields):
            problems.add(field, "a restore takes no amount or duration", "not_allowed")
        problems.raise_if_any()
        payload = restore_command(ven_id=ven_id, event_id=req.eventId, correlation_id=correlation_id)
        return CommandRequested(venId=ven_id, correlationId=correlation_id, op="restore", payload=payload)
    shed = _one(req, shed_fields, "shed amount", problems)
    if not shed_fields:
        problems.add("shedKw", "is required (or requestedReductionKw)", "missing_field")
    elif shed is not None:
        limits.check_kw(shed, shed_fields[0], problems)
    duration = _duration(req, duration_fields, problems)
    problems.raise_if_any()
    assert shed is not None and duration is not None
    payload = event_command(
        ven_id=ven_id,
        event_id=req.eventId or event_id,
        correlation_id=correlation_id,
        shed_kw=shed,
        start=now,
        end=now + duration,
    ) | {"op": req.op}
    return CommandRequested(venId=ven_id, correlationId=correlation_id, op=req.op, payload=payload)


def _one(req: SendCommand, fields: list[str], label: str, problems: Collector) -> float | None:
    """The value of the one spelling the client used; two spellings are ambiguous."""
    if len(fields) > 1:
        problems.add(fields[1], f"give only one of {', '.join(fields)} ({label})", "ambiguous")
        return None
    value = getattr(req, fields[0]) if fields else None
    if fields and value is None:
        problems.add(fields[0], "cannot be null", "wrong_type")
    return value


def _duration(req: SendCommand, fields: list[str], problems: Collector) -> timedelta | None:
    if not fields:
        return DEFAULT_DURATION
    value = _one(req, fields, "duration", problems)
    if value is None:
        return None
    seconds = value * 60 if fields[0] == "durationMinutes" else value
    if not 1 <= seconds <= MAX_DURATION.total_seconds():
        problems.add(fields[0], f"must be between 1 second and {MAX_DURATION.days} days", "out_of_range")
        return None
    return timedelta(seconds=seconds)
