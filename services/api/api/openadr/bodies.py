"""Request bodies of the facade: decoded, nulls dropped, checked, and kept as sent.

Clients (openadr3-client among them) send `null` for every optional field they do not
set, including fields the spec does not mark nullable: a null means "not given", so nulls
are dropped before anything is checked. The metadata a VTN sets (`id`, the dates,
`objectType` of a response) is ignored in requests. What is stored and served back is the
body as sent otherwise: the models below check only what this VTN relies on and let every
other field of the spec through.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from api.domain.errors import Invalid, Problem
from api.entrypoints.errors import problem_of
from dr_contracts.facts import OadrId

#: Set by the VTN, never taken from a request.
METADATA = ("id", "createdDateTime", "modificationDateTime", "objectType")

Name = Annotated[str, Field(min_length=1, max_length=128)]
Targets = Annotated[list[Name], Field(max_length=10_000)]


class OadrBody(BaseModel):
    """A request body: checks what the VTN uses; any other field of the spec passes through untouched."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ProgramBody(OadrBody):
    programName: Name
    targets: Targets | None = None


class IntervalPeriod(OadrBody):
    start: AwareDatetime
    duration: timedelta | None = None
    randomizeStart: timedelta | None = None


class Payload(OadrBody):
    type: Name
    values: list[Any] = Field(min_length=1)


class Interval(OadrBody):
    id: int
    intervalPeriod: IntervalPeriod | None = None
    payloads: list[Payload] = Field(min_length=1)


class PayloadDescriptor(OadrBody):
    payloadType: Name
    units: str | None = None


class EventBody(OadrBody):
    programID: OadrId
    eventName: str | None = None
    priority: int | None = Field(default=None, ge=0)
    targets: Targets | None = None
    payloadDescriptors: list[PayloadDescriptor] | None = None
    intervalPeriod: IntervalPeriod | None = None
    intervals: list[Interval] = Field(min_length=1)
    duration: timedelta | None = None


class VenBody(OadrBody):
    venName: Name
    objectType: Literal["BL_VEN_REQUEST", "VEN_VEN_REQUEST"] | None = None
    clientID: Name | None = None
    targets: Targets | None = None


class ReportResource(OadrBody):
    resourceName: Name
    intervalPeriod: IntervalPeriod | None = None
    intervals: list[Interval]


class ReportBody(OadrBody):
    eventID: OadrId
    clientName: Name
    reportName: str | None = None
    resources: list[ReportResource]


class ResourceBody(OadrBody):
    resourceName: Name
    venID: OadrId
    objectType: Literal["BL_RESOURCE_REQUEST", "VEN_RESOURCE_REQUEST"] | None = None
    clientID: Name | None = None
    targets: Targets | None = None


ObjectKind = Literal["PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE"]
#: 3.1.0's operations (3.0 said GET/POST/PUT/DELETE; openadr3-client 2.4.2 still does).
Operation = Literal["READ", "CREATE", "UPDATE", "DELETE"]


class ObjectOperation(OadrBody):
    objects: list[ObjectKind] = Field(min_length=1)
    operations: list[Operation] = Field(min_length=1)
    callbackUrl: str = Field(min_length=1, max_length=2048)
    bearerToken: str | None = Field(default=None, max_length=4096)


class SubscriptionBody(OadrBody):
    clientName: Name
    programID: OadrId | None = None
    objectOperations: list[ObjectOperation] = Field(min_length=1, max_length=20)
    targets: Targets | None = None


def drop_nulls(value: Any) -> Any:
    """`value` without null members, at every depth (a null means "not given")."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value if v is not None]
    return value


M = TypeVar("M", bound=OadrBody)


async def read_body(request: Request, model: type[M]) -> tuple[M, dict[str, Any]]:
    """The checked body and what is stored of it (nulls and metadata dropped); 400 otherwise."""
    try:
        decoded = orjson.loads(await request.body())
    except orjson.JSONDecodeError as err:
        raise Invalid([Problem("body", f"is not valid JSON: {err}", "json_invalid")]) from None
    if not isinstance(decoded, dict):
        raise Invalid([Problem("body", "must be a JSON object", "not_object")])
    raw = {k: v for k, v in drop_nulls(decoded).items() if k not in METADATA or k == "objectType"}
    try:
        checked = model.model_validate(raw)
    except ValidationError as err:
        problems = [problem_of({**e, "loc": ("body", *e["loc"])}) for e in err.errors()]
        raise Invalid(problems) from None
    raw.pop("objectType", None)
    return checked, raw
