"""Events over REST: the create body, what it means, and which transitions are allowed.

Decisions (docs/contract.md leaves them open):
- `status: "active"` means "start now": the event starts at once with `startNow`, and its
  startTime is the request time unless the client gave an earlier one; `startTime` may
  then be omitted. `endTime` is kept as given and must be in the future.
- A `scheduled` event may start up to `past_start_tolerance` in the past (clock skew);
  earlier than that is refused rather than silently started late.
- `actualReductionKw` is accepted and ignored: clients re-post event objects they read.
- Stop (`POST .../stop`) applies to an active event (or one created with `active` that the
  dispatcher has not started yet); cancel (`DELETE`) to a scheduled one. Anything else: 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from api.domain.errors import Collector, Conflict
from api.domain.fields import IsoDatetime, Kw, Number, RequestBody, VenId
from api.domain.limits import MAX_DURATION, Limits
from dr_contracts.facts import EventCreated
from dr_contracts.rules import EventStatus as EventStatus  # re-exported for the endpoints


class NewEvent(RequestBody):
    """Body of `POST /api/events`."""

    #: The schema states what it can: startTime is required unless status is `active`.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["status"], "properties": {"status": {"const": "active"}}},
                {"required": ["startTime"], "properties": {"startTime": {"type": "string"}}},
            ]
        }
    )

    startTime: IsoDatetime | None = Field(default=None, description="required unless status is `active`")
    endTime: IsoDatetime
    requestedReductionKw: Kw = Field(description="kW to shed, > 0 and <= the configured cap")
    status: Literal["scheduled", "active"] = Field(
        default="scheduled", description="`active` means start now"
    )
    venIds: list[VenId] | None = Field(
        default=None,
        max_length=10_000,
        description="registered VENs, each once; omitted: every online VEN",
        json_schema_extra={"minItems": 1, "uniqueItems": True},
    )
    actualReductionKw: Number | None = Field(
        default=None, description="read-only; accepted from old clients and ignored"
    )


def plan_event(req: NewEvent, event_id: str, now: datetime, limits: Limits) -> EventCreated:
    """A valid create request -> the EventCreated fact, or Invalid naming every bad field."""
    problems = Collector()
    limits.check_kw(req.requestedReductionKw, "requestedReductionKw", problems)
    start_now = req.status == "active"
    start = req.startTime
    if start_now:
        start = min(start, now) if start is not None else now
    elif start is None:
        problems.add("startTime", "is required unless status is `active`", "missing_field")
    elif start < now - limits.past_start_tolerance:
        problems.add(
            "startTime",
            f"is in the past (more than {limits.past_start_tolerance.total_seconds():g} s ago); "
            "send status `active` to start now",
            "in_past",
        )
    if req.endTime <= now:
        problems.add("endTime", "must be in the future", "in_past")
    elif start is not None:
        if req.endTime <= start:
            problems.add("endTime", "must be after startTime", "end_before_start")
        elif req.endTime - start > MAX_DURATION:
            problems.add("endTime", f"event lasts more than {MAX_DURATION.days} days", "out_of_range")
    if req.venIds is not None:
        _check_ven_ids(req.venIds, problems)
    problems.raise_if_any()
    assert start is not None
    return EventCreated(
        eventId=event_id,
        startTime=start,
        endTime=req.endTime,
        requestedReductionKw=req.requestedReductionKw,
        venIds=req.venIds,
        startNow=start_now,
    )


def _check_ven_ids(ven_ids: list[str], problems: Collector) -> None:
    if not ven_ids:
        problems.add("venIds", "must not be empty; omit it to target every online VEN", "too_short")
    elif len(set(ven_ids)) != len(ven_ids):
        problems.add("venIds", "lists a VEN more than once", "duplicate")


def check_stop(event_id: str, status: str) -> None:
    """Only a running event can be stopped."""
    if status != "active":
        hint = "; a scheduled event is cancelled with DELETE" if status == "scheduled" else ""
        raise Conflict(f"event {event_id} is {status}: only an active event can be stopped{hint}")


def check_cancel(event_id: str, status: str) -> None:
    """Only an event that has not started can be cancelled."""
    if status != "scheduled":
        hint = "; an active event is ended with POST .../stop" if status == "active" else ""
        raise Conflict(f"event {event_id} is {status}: only a scheduled event can be cancelled{hint}")
