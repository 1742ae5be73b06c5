"""The facade's routes (OpenADR 3.1.0, docs/openadr.md#endpoints): thin, the rules live in
service.py (who may write what), event_map.py (what an event means) and store.py (who sees what).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.openadr import kinds
from api.openadr.auth import CallerDep, issue_token
from api.openadr.bodies import (
    EventBody,
    OadrBody,
    ObjectKind,
    ProgramBody,
    ReportBody,
    ResourceBody,
    SubscriptionBody,
    VenBody,
    read_body,
)
from api.openadr.kinds import Kind
from api.openadr.service import Facade, require
from api.openadr.store import Filter
from api.ports import Unavailable

router = APIRouter()

Skip = Annotated[int, Query(ge=0, le=2**31 - 1, description="objects to skip")]
Limit = Annotated[int, Query(ge=0, le=50, description="most objects to return (at most 50)")]
Targets = Annotated[list[str] | None, Query(description="only objects targeted at any of these")]
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


@router.get("/notifiers")
async def notifiers(request: Request, who: CallerDep) -> Json:
    """Webhooks only (when OADR_WEBHOOK_HOSTS names where they may go); no OpenADR MQTT binding."""
    require(who, ("read_all", "read_targets"))
    return {"WEBHOOK": bool(request.app.state.callbacks.hosts)}


# ---- the query filters of each list -----------------------------------------------------


def _programs(targets: Targets = None, skip: Skip = 0, limit: Limit = 50) -> Filter:
    return Filter(skip=skip, limit=limit, targets=targets)


def _vens(venName: str | None = None, targets: Targets = None, skip: Skip = 0, limit: Limit = 50) -> Filter:
    return Filter(skip=skip, limit=limit, targets=targets, name=venName)


def _resources(
    resourceName: str | None = None,
    venID: str | None = None,
    targets: Targets = None,
    skip: Skip = 0,
    limit: Limit = 50,
) -> Filter:
    return Filter(skip=skip, limit=limit, targets=targets, name=resourceName, ven=venID)


def _reports(
    programID: str | None = None,
    eventID: str | None = None,
    clientName: str | None = None,
    skip: Skip = 0,
    limit: Limit = 50,
) -> Filter:
    return Filter(skip=skip, limit=limit, program=programID, event=eventID, client_name=clientName)


def _subscriptions(
    programID: str | None = None,
    clientName: str | None = None,
    objects: Annotated[list[ObjectKind] | None, Query()] = None,
    skip: Skip = 0,
    limit: Limit = 50,
) -> Filter:
    kinds_: list[str] | None = list(objects) if objects else None
    return Filter(skip=skip, limit=limit, program=programID, client_name=clientName, objects=kinds_)


def _crud(kind: Kind, path: str, id_name: str, body: type[OadrBody], query: Callable[..., Filter]) -> None:
    """The five routes of one kind of object: search, create, get, replace, delete."""
    filtered = Depends(query)

    async def search(facade: FacadeDep, who: CallerDep, f: Filter = filtered) -> list[Json]:
        return await facade.objects(kind, who, f)

    async def create(request: Request, facade: FacadeDep, who: CallerDep) -> Json:
        require(who, kind.write)  # 403 before a body is even read
        checked, raw = await read_body(request, body)
        return await facade.create(kind, who, checked, raw)

    async def get(object_id: str, facade: FacadeDep, who: CallerDep) -> Json:
        return await facade.object(kind, who, object_id)

    async def update(object_id: str, request: Request, facade: FacadeDep, who: CallerDep) -> Json:
        require(who, kind.write)
        checked, raw = await read_body(request, body)
        return await facade.update(kind, who, object_id, checked, raw)

    async def delete(object_id: str, facade: FacadeDep, who: CallerDep) -> Json:
        return await facade.delete(kind, who, object_id)

    one = f"/{path}/{{object_id}}"
    router.add_api_route(f"/{path}", search, methods=["GET"], name=f"search_{path}")
    router.add_api_route(f"/{path}", create, methods=["POST"], status_code=201, name=f"create_{kind.noun}")
    router.add_api_route(one, get, methods=["GET"], name=f"{kind.noun}_by_{id_name}")
    router.add_api_route(one, update, methods=["PUT"], name=f"update_{kind.noun}")
    router.add_api_route(one, delete, methods=["DELETE"], name=f"delete_{kind.noun}")


_crud(kinds.PROGRAM, "programs", "programID", ProgramBody, _programs)
_crud(kinds.VEN, "vens", "venID", VenBody, _vens)
_crud(kinds.RESOURCE, "resources", "resourceID", ResourceBody, _resources)
_crud(kinds.REPORT, "reports", "reportID", ReportBody, _reports)
_crud(kinds.SUBSCRIPTION, "subscriptions", "subscriptionID", SubscriptionBody, _subscriptions)


@router.get("/events")
async def search_events(
    facade: FacadeDep,
    who: CallerDep,
    programID: str | None = None,
    targets: Targets = None,
    skip: Skip = 0,
    limit: Limit = 50,
) -> list[Json]:
    return await facade.events(who, Filter(skip=skip, limit=limit, targets=targets, program=programID))


@router.post("/events", status_code=201)
async def create_event(request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    require(who, ("write_events",))
    body, raw = await read_body(request, EventBody)
    return await facade.create_event(who, body, raw)


@router.get("/events/{eventID}")
async def event(eventID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.event(who, eventID)


@router.put("/events/{eventID}")
async def update_event(eventID: str, request: Request, facade: FacadeDep, who: CallerDep) -> Json:
    require(who, ("write_events",))
    body, raw = await read_body(request, EventBody)
    return await facade.update_event(who, eventID, body, raw)


@router.delete("/events/{eventID}")
async def delete_event(eventID: str, facade: FacadeDep, who: CallerDep) -> Json:
    return await facade.delete_event(who, eventID)
