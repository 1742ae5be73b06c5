"""The facade's routes (OpenADR 3.1.0, docs/openadr.md#endpoints): thin, the rules live in
service.py (who may write what), event_map.py (what an event means) and store.py (who sees what).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.openadr.auth import CallerDep, issue_token
from api.openadr.bodies import EventBody, ProgramBody, ReportBody, VenBody, read_body
from api.openadr.service import Facade
from api.openadr.store import Filter
from api.ports import Unavailable

router = APIRouter()

Skip = Annotated[int, Query(ge=0, le=2**31 - 1, description="objects to skip")]
Limit = Annotated[int, Query(ge=0, le=50, description="most objects to return (at most 50)")]
TargetsQuery = Annotated[list[str] | None, Query(description="only objects targeted at any of these")]
Json = dict[str, Any]


async def _facade(request: Request) -> Facade:
    facade: Facade | None = getattr(request.app.state, "facade", None)
    if facade is None:
        raise Unavailable("the OpenADR facade is not started")
    return facade


FacadeDep = Annotated[Facade, Depends(_facade)]


@router.get("/auth/server")
async def auth_server(request: Request) -> Json:
    """Where to get a token (the spec's only required auth endpoint)."""
    configured = request.app.state.token_url
    return {"tokenURL": configured or str(request.url_for("fetch_token"))}


@router.post("/auth/token", name="fetch_token")
async def fetch_token(request: Request) -> Json:
    """OAuth2 client credentials: HTTP Basic or form credentials, a space-separated `scope`."""
    return await issue_token(request, request.app.state.clients, request.app.state.token_ttl_s)


@router.get("/programs")
async def search_programs(
    facade: FacadeDep, who: CallerDep, targets: TargetsQuery = None, skip: Skip = 0, limit: Limit = 50
) -> list[Json]:
    return await facade.programs(who, Filter(skip=skip, limit=limit, targets=targets))


@router.post("/programs", status_code=201)
async def create_program(request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    body, raw = await read_body(request, ProgramBody)
    return await facade.create_program(who, body, raw)


@router.get("/programs/{programID}")
async def program(programID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.program(who, programID)


@router.put("/programs/{programID}")
async def update_program(programID: str, request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    body, raw = await read_body(request, ProgramBody)
    return await facade.update_program(who, programID, body, raw)


@router.delete("/programs/{programID}")
async def delete_program(programID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.delete_program(who, programID)


@router.get("/events")
async def search_events(
    facade: FacadeDep,
    who: CallerDep,
    programID: str | None = None,
    targets: TargetsQuery = None,
    skip: Skip = 0,
    limit: Limit = 50,
) -> list[Json]:
    return await facade.events(who, Filter(skip=skip, limit=limit, targets=targets, program=programID))


@router.post("/events", status_code=201)
async def create_event(request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    body, raw = await read_body(request, EventBody)
    return await facade.create_event(who, body, raw)


@router.get("/events/{eventID}")
async def event(eventID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.event(who, eventID)


@router.delete("/events/{eventID}")
async def delete_event(eventID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.delete_event(who, eventID)


@router.get("/reports")
async def search_reports(
    facade: FacadeDep,
    who: CallerDep,
    programID: str | None = None,
    eventID: str | None = None,
    clientName: str | None = None,
    skip: Skip = 0,
    limit: Limit = 50,
) -> list[Json]:
    f = Filter(skip=skip, limit=limit, program=programID, event=eventID, client_name=clientName)
    return await facade.reports(who, f)


@router.post("/reports", status_code=201)
async def create_report(request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    body, raw = await read_body(request, ReportBody)
    return await facade.create_report(who, body, raw)


@router.get("/reports/{reportID}")
async def report(reportID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.report(who, reportID)


@router.put("/reports/{reportID}")
async def update_report(reportID: str, request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    body, raw = await read_body(request, ReportBody)
    return await facade.update_report(who, reportID, body, raw)


@router.delete("/reports/{reportID}")
async def delete_report(reportID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.delete_report(who, reportID)


@router.get("/vens")
async def search_vens(
    facade: FacadeDep,
    who: CallerDep,
    venName: str | None = None,
    targets: TargetsQuery = None,
    skip: Skip = 0,
    limit: Limit = 50,
) -> list[Json]:
    return await facade.vens(who, Filter(skip=skip, limit=limit, targets=targets, name=venName))


@router.post("/vens", status_code=201)
async def create_ven(request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    body, raw = await read_body(request, VenBody)
    return await facade.create_ven(who, body, raw)


@router.get("/vens/{venID}")
async def ven(venID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.ven(who, venID)


@router.put("/vens/{venID}")
async def update_ven(venID: str, request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    body, raw = await read_body(request, VenBody)
    return await facade.update_ven(who, venID, body, raw)


@router.delete("/vens/{venID}")
async def delete_ven(venID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.delete_ven(who, venID)
