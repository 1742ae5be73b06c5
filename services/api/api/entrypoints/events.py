"""`/api/events`: create, list, read, stop and cancel demand-response events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.domain.ack_table import DEFAULT_SORT, SORTS, AckStatus, parse_sort
from api.domain.delivery import MAX_BUCKETS, MAX_STEP_S, MIN_STEP_S, buckets
from api.domain.events import EventStatus, NewEvent
from api.domain.fields import IsoDatetime
from api.domain.limits import MAX_DURATION
from api.entrypoints.auth import require_operate, require_read
from api.entrypoints.deps import (
    End,
    PageDep,
    ServicesDep,
    Start,
    VenSearch,
    behind_header,
    counted_page,
    existing_id,
    lookup,
    next_page,
    window,
)
from api.entrypoints.schemas import (
    ERROR_RESPONSES,
    CurrentEventOut,
    EventAcksOut,
    EventCommandsOut,
    EventDeliveryOut,
    EventDetailOut,
    EventMetricsOut,
    EventOut,
)

reads = APIRouter(prefix="/api/events", tags=["events"], dependencies=[Depends(require_read)])
writes = APIRouter(prefix="/api/events", tags=["events"], dependencies=[Depends(require_operate)])

_HISTORY_SPAN = timedelta(days=30)


#: The rules of a create that JSON Schema cannot state (they relate fields, or the clock).
_CREATE_RULES = (
    "Schedule an event, or start it now with `status: active`. Answers once Kafka has it.\n\n"
    "Also refused with 422: an `endTime` not in the future, not after `startTime`, or more "
    f"than {MAX_DURATION.days} days after it; a `scheduled` startTime in the past (beyond a "
    "few minutes of clock skew); a VEN in `venIds` that is not registered."
)


@writes.post("", status_code=201, responses=ERROR_RESPONSES, description=_CREATE_RULES)
async def create_event(body: NewEvent, svc: ServicesDep, response: Response) -> EventOut:
    """Schedule an event (see `_CREATE_RULES` for what the schema cannot say)."""
    written = await svc.writer.create_event(body)
    behind_header(response, written, svc.metrics)
    fact = written.payload
    return EventOut(
        id=fact.eventId,
        status="active" if fact.startNow else "scheduled",
        startTime=fact.startTime,
        endTime=fact.endTime,
        requestedReductionKw=fact.requestedReductionKw,
        actualReductionKw=0.0,
        venIds=fact.venIds,
        createdAt=written.at,
    )


@reads.get("", responses=ERROR_RESPONSES)
async def list_events(
    svc: ServicesDep,
    page: PageDep,
    response: Response,
    status: Annotated[EventStatus | None, Query()] = None,
) -> list[EventOut]:
    """Newest first; `X-Next-Offset` is set when there is another page."""
    rows = await svc.queries.events(replace(page, limit=page.limit + 1), status)
    return next_page(response, rows, page)


@reads.get("/current", responses=ERROR_RESPONSES)
async def current_events(svc: ServicesDep, page: PageDep, response: Response) -> list[CurrentEventOut]:
    """Every active event (a list: several may overlap), with its live metrics."""
    rows = await svc.queries.current_events(replace(page, limit=page.limit + 1))
    return next_page(response, rows, page)


@reads.get("/history", responses=ERROR_RESPONSES)
async def event_history(
    svc: ServicesDep,
    page: PageDep,
    response: Response,
    start: Start = None,
    end: End = None,
) -> list[EventOut]:
    """Events overlapping [start, end); default: the last 30 days."""
    rows = await svc.queries.history(window(start, end, _HISTORY_SPAN), replace(page, limit=page.limit + 1))
    return next_page(response, rows, page)


@reads.get("/{event_id}", responses=ERROR_RESPONSES)
async def get_event(
    event_id: str,
    svc: ServicesDep,
    vens: Annotated[
        bool,
        Query(description="false: without the `vens` list (an event of 10,000 VENs: page them with /acks)"),
    ] = True,
) -> EventDetailOut | CurrentEventOut:
    """The event with currentReductionKw, vensResponding, avgResponseMs and its VENs."""
    event = await lookup("event", event_id, lambda i: svc.queries.event_detail(i, with_vens=vens))
    return EventDetailOut.model_validate(event) if vens else CurrentEventOut.model_validate(event)


@reads.get("/{event_id}/metrics", responses=ERROR_RESPONSES)
async def event_metrics(event_id: str, svc: ServicesDep) -> EventMetricsOut:
    event = await lookup("event", event_id, lambda i: svc.queries.event_detail(i, with_vens=False))
    return event  # type: ignore[return-value]


@reads.get("/{event_id}/acks", responses=ERROR_RESPONSES)
async def event_acks(
    event_id: str,
    svc: ServicesDep,
    page: PageDep,
    response: Response,
    status: Annotated[AckStatus | None, Query(description="only rows with this status")] = None,
    q: VenSearch = None,
    sort: Annotated[
        str,
        Query(
            description="a column, `-` in front for descending; nulls last, ties by venId",
            json_schema_extra={"enum": list(SORTS)},
        ),
    ] = DEFAULT_SORT,
) -> EventAcksOut:
    """Each VEN of the event (its allocation once activated, else the targeted venIds) with the
    outcome of its event command, the circuits its ack names, and its restore. `totalCount`
    counts the rows matching the filters; `X-Next-Offset` is set when there is another page."""
    order = parse_sort(sort)
    found = await lookup("event", event_id, lambda i: svc.queries.event_acks(i, order, status, q, page))
    counted_page(response, found["totalCount"], page)
    return EventAcksOut.model_validate(found)


@reads.get("/{event_id}/commands", responses=ERROR_RESPONSES)
async def event_commands(event_id: str, svc: ServicesDep) -> EventCommandsOut:
    """Counts and latencies of the commands the event sent: starts (`event`, `shedPanel`) and
    restores, with their outcomes, re-sends and first-issue-to-first-ack latency."""
    found = await lookup("event", event_id, svc.queries.event_commands)
    return found  # type: ignore[return-value]


@reads.get("/{event_id}/delivery", responses=ERROR_RESPONSES)
async def event_delivery(
    event_id: str,
    svc: ServicesDep,
    start: Annotated[
        IsoDatetime | None,
        Query(description="only buckets starting at or after this (a live chart's new points)"),
    ] = None,
    end: Annotated[
        IsoDatetime | None,
        Query(description="only buckets starting before this (a long chart filled a slice at a time)"),
    ] = None,
    step_s: Annotated[
        int | None,
        Query(
            ge=MIN_STEP_S,
            le=MAX_STEP_S,
            description=f"bucket length in seconds; default: at most {MAX_BUCKETS} buckets over the event",
        ),
    ] = None,
) -> EventDeliveryOut:
    """Delivered kW over the event's window (activation, else start, to its end), in buckets,
    for a chart of requested vs delivered: per bucket, each VEN's mean shed summed over VENs;
    only buckets that ended a report interval ago (settled).
    A live chart passes back `stepSeconds` as `step_s` with `start` (and `end`), so its buckets
    stay put."""
    event = await lookup("event", event_id, svc.queries.delivery_event)
    span = buckets(
        start_time=event["startTime"],
        activated_at=event["activatedAt"],
        end_time=event["endTime"],
        ended_at=event["endedAt"],
        step_s=step_s,
        start=start,
        now=datetime.now(UTC),
        before=end,
        report_interval_s=event["reportIntervalS"],
    )
    points = await svc.queries.delivery(event_id, span)
    return EventDeliveryOut.model_validate(
        {
            "stepSeconds": span.step.total_seconds(),
            "requestedReductionKw": event["requestedReductionKw"],
            "points": points,
            "settledUntil": span.settled_until,
        }
    )


@writes.post("/{event_id}/stop", status_code=202, responses=ERROR_RESPONSES)
async def stop_event(event_id: str, svc: ServicesDep, response: Response) -> EventOut:
    """End an active event early; the dispatcher restores the VENs (202: under way)."""
    event, written = await svc.writer.stop_event(existing_id("event", event_id))
    behind_header(response, written, svc.metrics)
    return EventOut(**(event | {"status": "stopped"}))


@writes.delete("/{event_id}", responses=ERROR_RESPONSES)
async def cancel_event(event_id: str, svc: ServicesDep, response: Response) -> EventOut:
    """Cancel an event that has not started."""
    event, written = await svc.writer.cancel_event(existing_id("event", event_id))
    behind_header(response, written, svc.metrics)
    return EventOut(**(event | {"status": "cancelled"}))
