"""`/api/vens`: register, read, update, delete VENs; their history; direct commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Query, Response

from api.domain.commands import SendCommand
from api.domain.resolution import Requested, Resolution
from api.domain.resolution import resolution as choose_resolution
from api.domain.vens import OVERRIDES, NewVen, ShownStatus, VenPatch
from api.entrypoints.auth import require_operate, require_read, require_register
from api.entrypoints.deps import (
    End,
    PageDep,
    ServicesDep,
    Start,
    VenSearch,
    behind_header,
    existing_id,
    lookup,
    next_page,
    window,
)
from api.entrypoints.schemas import (
    ERROR_RESPONSES,
    CircuitHistoryOut,
    CommandOut,
    DeletedOut,
    LoadOut,
    TelemetryOut,
    TelemetryPointOut,
    TelemetryRollupOut,
    VenEventsOut,
    VenOut,
)
from dr_contracts.facts import VenRegistered

reads = APIRouter(prefix="/api/vens", tags=["vens"], dependencies=[Depends(require_read)])
writes = APIRouter(prefix="/api/vens", tags=["vens"], dependencies=[Depends(require_operate)])
#: Registration alone: the `registrar` role (the simulator, installers) may do this and no more.
registration = APIRouter(prefix="/api/vens", tags=["vens"], dependencies=[Depends(require_register)])

_SERIES_SPAN = timedelta(hours=24)
_ACKS_SPAN = timedelta(days=30)
LoadId = Annotated[str | None, Query(min_length=1, max_length=128, pattern=r"^[^\x00]+$")]


def _registered(fact: VenRegistered, created_at: Any) -> VenOut:
    """The answer to a registration, from the fact (GET shows telemetry once it arrives)."""
    location = fact.location.model_dump() if fact.location else None
    status = fact.status if fact.status in OVERRIDES else "offline"
    return VenOut.model_validate(
        {
            "id": fact.venId,
            "name": fact.name,
            "status": status,
            "location": location,
            "createdAt": created_at,
            "lastSeen": None,
            "loads": [],
            "metrics": {
                "currentPowerKw": None,
                "shedAvailabilityKw": None,
                "activeEventId": None,
                "shedLoadIds": [],
            },
        }
    )


@registration.post("", status_code=201, responses=ERROR_RESPONSES)
async def register_ven(body: NewVen, svc: ServicesDep, response: Response) -> VenOut:
    """Register a VEN; `registrationId` becomes its venId (its MQTT identity)."""
    written = await svc.writer.register_ven(body)
    behind_header(response, written, svc.metrics)
    ven = None if written.behind else await svc.queries.ven(written.payload.venId)
    return VenOut.model_validate(ven) if ven else _registered(written.payload, written.at)


@reads.get("", responses=ERROR_RESPONSES)
async def list_vens(
    svc: ServicesDep,
    page: PageDep,
    response: Response,
    status: Annotated[ShownStatus | None, Query(description="only VENs shown with this status")] = None,
    q: VenSearch = None,
) -> list[VenOut]:
    """By venId; `X-Next-Offset` is set when there is another page."""
    rows = await svc.queries.vens(replace(page, limit=page.limit + 1), status, q)
    return next_page(response, rows, page)


async def _ven(svc: ServicesDep, ven_id: str) -> dict[str, Any]:
    return await lookup("VEN", ven_id, svc.queries.ven)


@reads.get("/{ven_id}", responses=ERROR_RESPONSES)
async def get_ven(ven_id: str, svc: ServicesDep) -> VenOut:
    return await _ven(svc, ven_id)  # type: ignore[return-value]


@writes.patch("/{ven_id}", responses=ERROR_RESPONSES)
async def update_ven(ven_id: str, body: VenPatch, svc: ServicesDep, response: Response) -> VenOut:
    """Change name, location or administrative status."""
    written = await svc.writer.update_ven(existing_id("VEN", ven_id), body)
    behind_header(response, written, svc.metrics)
    return await _ven(svc, ven_id)  # type: ignore[return-value]


@writes.delete("/{ven_id}", responses=ERROR_RESPONSES)
async def delete_ven(ven_id: str, svc: ServicesDep, response: Response) -> DeletedOut:
    written = await svc.writer.delete_ven(existing_id("VEN", ven_id))
    behind_header(response, written, svc.metrics)
    return DeletedOut(id=ven_id)


@reads.get("/{ven_id}/loads", responses=ERROR_RESPONSES)
async def ven_loads(ven_id: str, svc: ServicesDep) -> list[LoadOut]:
    """The VEN's circuits as of its latest reading."""
    return (await _ven(svc, ven_id))["loads"]


_RESOLUTION_HEADER = {
    "X-Resolution": {
        "description": "the resolution of the points: `raw` (readings), `1m` or `15m` (rollup buckets)",
        "schema": {"type": "string", "enum": list(get_args(Resolution))},
    }
}


@reads.get(
    "/{ven_id}/telemetry",
    responses={**ERROR_RESPONSES, 200: {"description": "Successful Response", "headers": _RESOLUTION_HEADER}},
)
async def ven_telemetry(
    ven_id: str,
    svc: ServicesDep,
    page: PageDep,
    response: Response,
    start: Start = None,
    end: End = None,
    resolution: Annotated[
        Requested,
        Query(description="`auto`: raw up to a day, 1-minute buckets up to a week, else 15-minute"),
    ] = "auto",
) -> TelemetryOut:
    """Readings in [start, end) (default: the last 24 h), newest first; for longer windows,
    rollup buckets that start in it. The `X-Resolution` header says which."""
    now = datetime.now(UTC)
    span = window(start, end, _SERIES_SPAN, now)
    used = choose_resolution(resolution, span.start, span.end, now, svc.retention)
    found = await lookup("VEN", ven_id, lambda i: svc.queries.telemetry(i, span, page, used))
    response.headers["X-Resolution"] = used
    point = TelemetryPointOut if used == "raw" else TelemetryRollupOut
    return TelemetryOut(totalCount=found[0], telemetry=[point.model_validate(row) for row in found[1]])


@reads.get("/{ven_id}/events", responses=ERROR_RESPONSES)
async def ven_events(
    ven_id: str,
    svc: ServicesDep,
    page: PageDep,
    start: Start = None,
    end: End = None,
) -> VenEventsOut:
    """The VEN's acks in [start, end) (default: the last 30 days), newest first."""
    span = window(start, end, _ACKS_SPAN)
    found = await lookup("VEN", ven_id, lambda i: svc.queries.acks(i, span, page))
    return VenEventsOut.model_validate({"totalCount": found[0], "events": found[1]})


@reads.get("/{ven_id}/circuits/history", responses=ERROR_RESPONSES)
async def circuit_history(
    ven_id: str,
    svc: ServicesDep,
    page: PageDep,
    load_id: LoadId = None,
    start: Start = None,
    end: End = None,
) -> CircuitHistoryOut:
    """Per-circuit samples in [start, end) (default: the last 24 h), newest first."""
    span = window(start, end, _SERIES_SPAN)
    found = await lookup("VEN", ven_id, lambda i: svc.queries.circuit_history(i, load_id, span, page))
    return CircuitHistoryOut.model_validate({"totalCount": found[0], "snapshots": found[1]})


@writes.post("/{ven_id}/send-event", status_code=202, responses=ERROR_RESPONSES)
async def send_event(ven_id: str, body: SendCommand, svc: ServicesDep, response: Response) -> CommandOut:
    """Send one command to one VEN now; the dispatcher publishes it (202 + correlationId)."""
    written = await svc.writer.send_command(existing_id("VEN", ven_id), body)
    behind_header(response, written, svc.metrics)
    fact = written.payload
    return CommandOut(
        correlationId=fact.correlationId,
        venId=fact.venId,
        op=fact.op,
        eventId=fact.payload.get("eventId"),
    )
