"""VENs over REST: registration, updates and how a VEN's status is shown.

Decisions:
- `registrationId`, when given, becomes the venId (the MQTT identity); else `ven-` + 8 hex.
- Registering an id that exists is a 409, except a VEN known only from its telemetry
  (auto-registered): the registration adopts it, as when a site is entered after install.
  A deleted VEN may be registered again.
- `status` on create/patch is an administrative status. `maintenance` and `disabled`
  override what is shown; `online`, `offline` and `active` are accepted from old clients and
  leave the shown status to telemetry: online while readings arrive (last seen within three
  report intervals), else offline.
- PATCH cannot change the venId; `null` is refused (nothing can be un-set).
"""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import ConfigDict, Field

from api.domain.errors import Collector, Conflict
from api.domain.fields import Name, Number, RequestBody, VenId, omittable
from dr_contracts.facts import Location, VenRegistered, VenUpdated

AdminStatus = Literal["online", "offline", "active", "maintenance", "disabled"]
#: Administrative statuses shown instead of online/offline.
OVERRIDES = ("maintenance", "disabled")
#: What `status` a VEN is shown with (and the VEN list filters by).
ShownStatus = Literal["online", "offline", "maintenance", "disabled"]


class LocationIn(RequestBody):
    lat: Number = Field(ge=-90, le=90)
    lon: Number = Field(ge=-180, le=180)


class NewVen(RequestBody):
    """Body of `POST /api/vens`."""

    name: Name
    location: LocationIn | None = None
    status: AdminStatus | None = None
    registrationId: VenId | None = Field(default=None, description="becomes the venId")


class VenPatch(RequestBody):
    """Body of `PATCH /api/vens/{venId}`: at least one field."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    name: Name | None = omittable()
    location: LocationIn | None = omittable()
    status: AdminStatus | None = omittable()


def new_ven_id(req: NewVen) -> str:
    return req.registrationId or f"ven-{secrets.token_hex(4)}"


def plan_registration(req: NewVen, ven_id: str, existing_source: str | None) -> VenRegistered:
    """The VenRegistered fact, or Conflict when the id belongs to a registered VEN.

    `existing_source` is how the live (not deleted) VEN with that id came to be, if any.
    """
    if existing_source == "api":
        raise Conflict(f"VEN {ven_id} is already registered")
    problems = Collector()
    _check_name(req.name, problems)
    problems.raise_if_any()
    return VenRegistered(
        venId=ven_id, name=req.name.strip(), location=_location(req.location), status=req.status
    )


def plan_update(ven_id: str, patch: VenPatch) -> VenUpdated:
    """The VenUpdated fact, or Invalid for an empty patch or explicit nulls."""
    problems = Collector()
    if not patch.model_fields_set:
        problems.add("body", "give at least one of name, location, status", "missing_field")
    for field in sorted(patch.model_fields_set):
        if getattr(patch, field) is None:
            problems.add(field, "cannot be null", "wrong_type")
    if patch.name is not None:
        _check_name(patch.name, problems)
    problems.raise_if_any()
    return VenUpdated(
        venId=ven_id,
        name=patch.name.strip() if patch.name else None,
        location=_location(patch.location),
        status=patch.status,
    )


def _check_name(name: str, problems: Collector) -> None:
    if not name.strip():
        problems.add("name", "must not be blank", "too_short")


def _location(loc: LocationIn | None) -> Location | None:
    return None if loc is None else Location(lat=loc.lat, lon=loc.lon)
