"""The facade's use cases: check, append one fact, answer with the object as stored.

Each write appends exactly one fact (an OpenADR event is one EventCreated), through the
same Writer as /api, so it waits for the read model in the same way (read-your-writes).
Programs, VEN objects, resources, reports and subscriptions share one create/replace/delete
path (`Kind` says who reads and writes each); what differs per kind is `_prepare`: whose
object it is and what else must hold before it is written.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog

from api.domain.errors import Conflict, Invalid, NotFound, Problem
from api.openadr import event_map
from api.openadr.bodies import (
    METADATA,
    EventBody,
    OadrBody,
    ReportBody,
    ResourceBody,
    SubscriptionBody,
    VenBody,
)
from api.openadr.callbacks import CallbackGuard
from api.openadr.kinds import PROGRAM, REPORT, RESOURCE, VEN, Kind, answer, hide_targets, shown
from api.openadr.problems import OadrError
from api.openadr.scopes import Caller
from api.openadr.store import Filter, OadrStore
from api.service import Writer
from dr_contracts.base import ID_PATTERN
from dr_contracts.facts import EventAmended, OadrObjectDeleted, OadrObjectWritten
from dr_contracts.openadr_reports import report_readings
from dr_contracts.rejection import Rejected

log = structlog.get_logger(__name__)
ID = re.compile(ID_PATTERN)
Json = dict[str, Any]


def require(caller: Caller, any_of: tuple[str, ...]) -> None:
    if (why := caller.lacks(*any_of)) is not None:  # type: ignore[arg-type]
        raise OadrError(403, why)


def _invalid(field: str, reason: str, code: str) -> Invalid:
    return Invalid([Problem(field, reason, code)])


@dataclass(frozen=True)
class Prepared:
    """What a write stores: the owner (`clientID`), the body, and what the fact adds."""

    owner: str
    body: Json
    ven_id: str | None = None
    reads_all: bool | None = None


@dataclass
class Facade:
    writer: Writer
    store: OadrStore
    callbacks: CallbackGuard

    # ---- reads -------------------------------------------------------------------------

    async def _by_target(self, caller: Caller, f: Filter) -> Filter | None:
        """A VEN's view by target: what was granted to it. A `targets` filter counts only among
        those (asking for another VEN's target must not tell whether anything has it); None:
        nothing can match."""
        visible = await self.store.ven_targets(caller.client_id)
        if f.targets is not None:
            asked = [t for t in f.targets if t in visible]
            if not asked:
                return None
            f = replace(f, targets=asked)
        return replace(f, visible=visible)

    async def _rows(self, kind: Kind, caller: Caller, f: Filter) -> tuple[list[Json], set[str] | None]:
        """The rows of `kind` the caller may see, and the targets it may see of them (None: all)."""
        require(caller, kind.read)
        if caller.is_bl:
            return await self.store.objects(kind.type, f), None
        if kind.own_only:
            return await self.store.objects(kind.type, replace(f, owner=caller.client_id)), None
        scoped = await self._by_target(caller, f)
        if scoped is None:
            return [], None
        return await self.store.objects(kind.type, scoped), set(scoped.visible or ())

    async def _row(self, kind: Kind, caller: Caller, object_id: str) -> Json:
        found, _ = await self._rows(kind, caller, Filter(id=object_id, limit=1))
        if not found:
            raise NotFound(kind.noun, object_id)
        return found[0]

    async def objects(self, kind: Kind, caller: Caller, f: Filter) -> list[Json]:
        rows, shown = await self._rows(kind, caller, f)
        return [hide_targets(answer(kind.type, row), shown) for row in rows]

    async def object(self, kind: Kind, caller: Caller, object_id: str) -> Json:
        found = await self.objects(kind, caller, Filter(id=object_id, limit=1))
        if not found:
            raise NotFound(kind.noun, object_id)
        return found[0]

    async def events(self, caller: Caller, f: Filter) -> list[Json]:
        require(caller, ("read_all", "read_targets"))
        scoped: Filter | None = f
        if not caller.is_bl:
            # A VEN's list holds what it may act on: events that have not ended (its polls
            # stay small as history grows); a BL's holds history too.
            scoped = await self._by_target(caller, replace(f, current=f.id is None))
        if scoped is None:
            return []
        rows = await self.store.events(scoped)
        shown = None if scoped.visible is None else set(scoped.visible)
        return [event_map.render(row, shown) for row in rows]

    async def event(self, caller: Caller, event_id: str) -> Json:
        found = await self.events(caller, Filter(id=event_id, limit=1))
        if not found:
            raise NotFound("event", event_id)
        return found[0]

    # ---- programs, VEN objects, resources, reports, subscriptions ----------------------

    async def create(self, kind: Kind, caller: Caller, body: OadrBody, raw: Json) -> Json:
        require(caller, kind.write)
        prepared = await self._prepare(kind, caller, body, raw, None)
        async with self._claimed(kind, prepared.body, None):
            return await self._write(kind, uuid.uuid4().hex, prepared, None)

    async def update(self, kind: Kind, caller: Caller, object_id: str, body: OadrBody, raw: Json) -> Json:
        require(caller, kind.write)
        old = await self._row(kind, caller, object_id)
        prepared = await self._prepare(kind, caller, body, raw, old)
        async with self._claimed(kind, prepared.body, object_id):
            return await self._write(kind, object_id, prepared, old["created_at"])

    async def delete(self, kind: Kind, caller: Caller, object_id: str) -> Json:
        require(caller, kind.write)
        old = await self._row(kind, caller, object_id)
        # 400: the spec has no 409 for DELETE
        if kind is PROGRAM:
            self._not_default(object_id)
            if await self.store.program_has_events(object_id):
                raise OadrError(400, f"program {object_id} has events: it cannot be deleted")
        if kind is VEN and await self.store.objects("RESOURCE", Filter(ven=object_id, limit=1)):
            raise OadrError(400, f"VEN {object_id} has resources: delete them first")
        fact = OadrObjectDeleted(
            objectType=kind.type,
            objectId=object_id,
            clientId=old["client_id"],
            body=old["body"],
            createdAt=old["created_at"],
        )
        await self.writer.append(fact)
        log.info("oadr.object_deleted", object_type=kind.type, object_id=object_id)
        return answer(kind.type, old)

    async def _write(self, kind: Kind, object_id: str, p: Prepared, created: datetime | None) -> Json:
        fact = OadrObjectWritten(
            objectType=kind.type,
            objectId=object_id,
            clientId=p.owner,
            body=p.body,
            venId=p.ven_id,
            readsAll=p.reads_all,
            createdAt=created,
        )
        written = await self.writer.append(fact)
        log.info("oadr.object_written", object_type=kind.type, object_id=object_id, client_id=p.owner)
        return shown(kind.type, object_id, created or written.at, written.at, p.body)

    @contextlib.asynccontextmanager
    async def _claimed(self, kind: Kind, body: Json, but: str | None) -> AsyncIterator[None]:
        """The object's name checked free and held (store.name_lock) until its write is
        projected: two api replicas cannot both take one. A taken name is 409, or 400 where
        the spec documents no 409 (POST /vens)."""
        if kind.unique is None:
            yield
            return
        name = body[kind.unique]
        ven = body.get("venID") if kind is RESOURCE else None  # a resource's name is its VEN's
        async with self.store.name_lock(kind.type, f"{ven or ''}/{name}"):
            found = await self.store.objects(kind.type, Filter(name=name, ven=ven, limit=2))
            clash = [r for r in found if r["object_id"] != but]
            if clash:
                status = 400 if kind is VEN and but is None else 409
                raise OadrError(status, f"{kind.unique} {name!r} is taken (by {clash[0]['object_id']})")
            yield

    def _not_default(self, program_id: str) -> None:
        if program_id == event_map.DEFAULT_PROGRAM_ID:
            raise OadrError(400, "the platform's default program cannot be changed or deleted")

    async def _prepare(
        self, kind: Kind, caller: Caller, body: OadrBody, raw: Json, old: Json | None
    ) -> Prepared:
        """Whose object this is and what it stores, once everything it needs holds."""
        if kind is PROGRAM:
            if old is not None:
                self._not_default(old["object_id"])
            return Prepared(caller.client_id, raw)
        if kind is VEN:
            assert isinstance(body, VenBody)
            return self._ven(caller, body, raw, old)
        if kind is RESOURCE:
            assert isinstance(body, ResourceBody)
            return await self._resource(caller, body, raw, old)
        if kind is REPORT:
            assert isinstance(body, ReportBody)
            ven_id = await self._reporting_ven(caller, body, raw)
            return Prepared(caller.client_id, {**raw, "clientID": caller.client_id}, ven_id=ven_id)
        assert isinstance(body, SubscriptionBody)
        for n, operation in enumerate(body.objectOperations):
            if (why := self.callbacks.refusal(operation.callbackUrl)) is not None:
                raise _invalid(f"objectOperations[{n}].callbackUrl", why, "callback_refused")
        if body.programID is not None and not await self.store.objects(
            "PROGRAM", Filter(id=body.programID, limit=1)
        ):
            raise _invalid("programID", f"names no program ({body.programID!r})", "unknown_program")
        # A PUT keeps whose it is: a BL replacing a VEN's subscription does not widen what it hears.
        owner = old["client_id"] if old else caller.client_id
        reads_all = old["reads_all"] if old else caller.is_bl
        return Prepared(owner, {**raw, "clientID": owner}, reads_all=reads_all)

    def _ven(self, caller: Caller, body: VenBody, raw: Json, old: Json | None) -> Prepared:
        """A BL names the VEN's client and grants its targets; a VEN writes its own, keeping
        the targets the BL granted."""
        if caller.is_bl:
            if body.objectType == "VEN_VEN_REQUEST" or body.clientID is None:
                raise _invalid(
                    "clientID", "a BL sends a BL_VEN_REQUEST naming the VEN's clientID", "missing_field"
                )
            return Prepared(body.clientID, raw)
        self._as_ven(caller, body.objectType, raw, "VEN_VEN_REQUEST")
        granted = {"targets": old["body"]["targets"]} if old and "targets" in old["body"] else {}
        return Prepared(caller.client_id, {**raw, "clientID": caller.client_id, **granted})

    def _as_ven(self, caller: Caller, object_type: str | None, raw: Json, expected: str) -> None:
        """A VEN writes as itself: its requests' kind, no targets, no other client's id."""
        foreign = "clientID" in raw and raw["clientID"] != caller.client_id
        if object_type not in (None, expected) or "targets" in raw or foreign:
            raise OadrError(
                403, f"a VEN sends a {expected}: its clientID and targets are set by the VTN and the BL"
            )

    async def _resource(self, caller: Caller, body: ResourceBody, raw: Json, old: Json | None) -> Prepared:
        """A resource belongs to a VEN object (venID): a BL names any, a VEN only its own."""
        if caller.is_bl:
            if body.objectType == "VEN_RESOURCE_REQUEST" or body.clientID is None:
                raise _invalid(
                    "clientID", "a BL sends a BL_RESOURCE_REQUEST naming the clientID", "missing_field"
                )
            owner = body.clientID
        else:
            self._as_ven(caller, body.objectType, raw, "VEN_RESOURCE_REQUEST")
            owner = caller.client_id
        if not await self.store.objects("VEN", Filter(id=body.venID, owner=owner, limit=1)):
            raise _invalid(
                "venID", f"names no VEN object of client {owner!r} ({body.venID!r})", "unknown_ven"
            )
        granted = (
            {"targets": old["body"]["targets"]}
            if not caller.is_bl and old and "targets" in old["body"]
            else {}
        )
        return Prepared(owner, {**raw, "clientID": owner, **granted})

    async def _reporting_ven(self, caller: Caller, body: ReportBody, raw: Json) -> str:
        """The platform VEN the report's readings are of: the caller's VEN object's venName.

        The event must be one the caller can see; DEMAND and BASELINE must read as kW
        (dr_contracts.openadr_reports, which the projector applies to the same body).
        """
        try:
            await self.event(caller, body.eventID)
        except NotFound:
            raise _invalid(
                "eventID", f"names no event of yours ({body.eventID!r})", "unknown_event"
            ) from None
        try:
            report_readings(raw)
        except Rejected as err:
            raise _invalid(err.field or "resources", err.message, err.code) from None
        mine = await self.store.objects("VEN", Filter(owner=caller.client_id, limit=1))
        if not mine:
            raise _invalid("clientName", "this client has no VEN object: POST /vens first", "no_ven")
        ven_name = str(mine[0]["body"]["venName"])
        if not ID.match(ven_name) or await self.store.mqtt_ven(ven_name):
            reason = f"venName {ven_name!r} cannot name its telemetry (not a platform id, or an MQTT VEN's)"
            raise _invalid("clientName", reason, "bad_ven_name")
        return ven_name

    # ---- events ------------------------------------------------------------------------

    async def create_event(self, caller: Caller, body: EventBody, raw: Json) -> Json:
        require(caller, ("write_events",))
        if body.programID != event_map.DEFAULT_PROGRAM_ID:
            if not await self.store.objects("PROGRAM", Filter(id=body.programID, limit=1)):
                raise _invalid("programID", f"names no program ({body.programID!r})", "unknown_program")
        event_id = await self.writer.unused_event_id()
        fact = event_map.plan(body, event_id, self.writer.clock(), self.writer.limits)
        ven_ids = None
        if body.targets:
            if unknown := await self.store.unknown_targets(body.targets):
                raise _invalid("targets", f"reach no VEN: {', '.join(unknown[:20])}", "unknown_target")
            ven_ids = await self.store.platform_vens(body.targets)
        fact = fact.model_copy(update={"venIds": ven_ids, "openadr": raw})
        written = await self.writer.append(fact)
        log.info("oadr.event_created", event_id=event_id, program_id=body.programID, mqtt_vens=ven_ids)
        return shown("EVENT", event_id, written.at, written.at, raw)

    async def update_event(self, caller: Caller, event_id: str, body: EventBody, raw: Json) -> Json:
        """Replace the event's object; what the platform runs of it cannot change (409)."""
        require(caller, ("write_events",))
        old = await self.event(caller, event_id)
        before = EventBody.model_validate({k: v for k, v in old.items() if k not in METADATA})
        if event_map.dispatch_terms(body) != event_map.dispatch_terms(before):
            raise Conflict(
                f"event {event_id}: its program, start, duration, kW or targets cannot change; "
                "DELETE it and create another"
            )
        written = await self.writer.append(EventAmended(eventId=event_id, openadr=raw))
        log.info("oadr.event_amended", event_id=event_id)
        return shown("EVENT", event_id, datetime.fromisoformat(old["createdDateTime"]), written.at, raw)

    async def delete_event(self, caller: Caller, event_id: str) -> Json:
        """DELETE of a scheduled event cancels it, of an active one stops it (docs/openadr.md)."""
        require(caller, ("write_events",))
        shown = await self.event(caller, event_id)
        status = (await self.writer.registry.event(event_id) or {}).get("status")
        try:
            if status == "active":
                await self.writer.stop_event(event_id, via="OpenADR")
            else:
                await self.writer.cancel_event(event_id, via="OpenADR")
        except Conflict as err:  # 400: the spec has no 409 for DELETE
            raise OadrError(400, str(err)) from None
        return shown
