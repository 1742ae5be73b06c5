"""The facade's use cases: check, append one fact, answer with the object as stored.

Each write appends exactly one fact (an OpenADR event is one EventCreated), through the
same Writer as /api, so it waits for the read model in the same way (read-your-writes).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

import structlog

from api.domain.errors import Invalid, NotFound, Problem
from api.openadr import event_map
from api.openadr.bodies import EventBody, ProgramBody, ReportBody, VenBody
from api.openadr.problems import OadrError
from api.openadr.scopes import Caller
from api.openadr.store import Filter, OadrStore
from api.service import Writer
from dr_contracts.base import ID_PATTERN
from dr_contracts.facts import OadrObjectDeleted, OadrObjectType, OadrObjectWritten
from dr_contracts.openadr_reports import report_readings
from dr_contracts.rejection import Rejected

log = structlog.get_logger(__name__)
ID = re.compile(ID_PATTERN)


def answer(object_type: str, row: dict[str, Any]) -> dict[str, Any]:
    """A stored object as the spec shows it: metadata first, then the body as sent."""
    return {
        "id": row["object_id"],
        "createdDateTime": row["created_at"].isoformat(),
        "modificationDateTime": row["modified_at"].isoformat(),
        "objectType": object_type,
        **row["body"],
    }


def require(caller: Caller, *any_of: str) -> None:
    if (why := caller.lacks(*any_of)) is not None:  # type: ignore[arg-type]
        raise OadrError(403, why)


@dataclass
class Facade:
    writer: Writer
    store: OadrStore

    # ---- reads -------------------------------------------------------------------------

    async def visible(self, caller: Caller) -> list[str] | None:
        """The targets a VEN can be reached by (None for a BL: no restriction)."""
        return None if caller.is_bl else await self.store.ven_targets(caller.client_id)

    async def programs(self, caller: Caller, f: Filter) -> list[dict[str, Any]]:
        require(caller, "read_all", "read_targets")
        f = replace(f, visible=await self.visible(caller))
        return [answer("PROGRAM", row) for row in await self.store.objects("PROGRAM", f)]

    async def program(self, caller: Caller, program_id: str) -> dict[str, Any]:
        found = await self.programs(caller, Filter(id=program_id, limit=1))
        if not found:
            raise NotFound("program", program_id)
        return found[0]

    async def events(self, caller: Caller, f: Filter) -> list[dict[str, Any]]:
        require(caller, "read_all", "read_targets")
        visible = await self.visible(caller)
        rows = await self.store.events(replace(f, visible=visible))
        shown = None if visible is None else set(visible)
        return [event_map.render(row, shown) for row in rows]

    async def event(self, caller: Caller, event_id: str) -> dict[str, Any]:
        found = await self.events(caller, Filter(id=event_id, limit=1))
        if not found:
            raise NotFound("event", event_id)
        return found[0]

    async def vens(self, caller: Caller, f: Filter) -> list[dict[str, Any]]:
        require(caller, "read_all", "read_ven_objects")
        owner = None if caller.is_bl else caller.client_id
        rows = await self.store.objects("VEN", replace(f, owner=owner))
        return [answer("VEN", row) for row in rows]

    async def ven(self, caller: Caller, ven_id: str) -> dict[str, Any]:
        found = await self.vens(caller, Filter(id=ven_id, limit=1))
        if not found:
            raise NotFound("ven", ven_id)
        return found[0]

    async def reports(self, caller: Caller, f: Filter) -> list[dict[str, Any]]:
        require(caller, "read_all", "read_ven_objects")
        owner = None if caller.is_bl else caller.client_id
        rows = await self.store.objects("REPORT", replace(f, owner=owner))
        return [answer("REPORT", row) for row in rows]

    async def report(self, caller: Caller, report_id: str) -> dict[str, Any]:
        found = await self.reports(caller, Filter(id=report_id, limit=1))
        if not found:
            raise NotFound("report", report_id)
        return found[0]

    # ---- writes ------------------------------------------------------------------------

    async def _write(
        self,
        object_type: OadrObjectType,
        object_id: str,
        owner: str,
        body: dict[str, Any],
        ven_id: str | None = None,
    ) -> dict[str, Any]:
        fact = OadrObjectWritten(
            objectType=object_type, objectId=object_id, clientId=owner, body=body, venId=ven_id
        )
        written = await self.writer.append(fact)
        log.info("oadr.object_written", object_type=object_type, object_id=object_id, client_id=owner)
        at = written.at.isoformat()
        return {
            "id": object_id,
            "createdDateTime": at,
            "modificationDateTime": at,
            "objectType": object_type,
            **body,
        }

    async def _delete(self, object_type: OadrObjectType, shown: dict[str, Any]) -> dict[str, Any]:
        await self.writer.append(OadrObjectDeleted(objectType=object_type, objectId=shown["id"]))
        log.info("oadr.object_deleted", object_type=object_type, object_id=shown["id"])
        return shown

    async def _unique_name(
        self, object_type: str, name: str, but: str | None = None, status: int = 409
    ) -> None:
        """A taken name is 409, or 400 where the spec documents no 409 (POST /vens)."""
        clash = [
            r
            for r in await self.store.objects(object_type, Filter(name=name, limit=2))
            if r["object_id"] != but
        ]
        if clash:
            field = "programName" if object_type == "PROGRAM" else "venName"
            raise OadrError(status, f"{field} {name!r} is taken (by {clash[0]['object_id']})")

    async def create_program(self, caller: Caller, body: ProgramBody, raw: dict[str, Any]) -> dict[str, Any]:
        require(caller, "write_programs")
        await self._unique_name("PROGRAM", body.programName)
        return await self._write("PROGRAM", uuid.uuid4().hex, caller.client_id, raw)

    async def update_program(
        self, caller: Caller, program_id: str, body: ProgramBody, raw: dict[str, Any]
    ) -> dict[str, Any]:
        require(caller, "write_programs")
        old = await self._own_program(caller, program_id)
        await self._unique_name("PROGRAM", body.programName, but=program_id)
        shown = await self._write("PROGRAM", program_id, caller.client_id, raw)
        return {**shown, "createdDateTime": old["createdDateTime"]}

    async def delete_program(self, caller: Caller, program_id: str) -> dict[str, Any]:
        require(caller, "write_programs")
        old = await self._own_program(caller, program_id)
        if await self.store.program_has_events(program_id):  # 400: the spec has no 409 for DELETE
            raise OadrError(400, f"program {program_id} has events: it cannot be deleted")
        return await self._delete("PROGRAM", old)

    async def _own_program(self, caller: Caller, program_id: str) -> dict[str, Any]:
        if program_id == event_map.DEFAULT_PROGRAM_ID:
            raise OadrError(400, "the platform's default program cannot be changed or deleted")
        return await self.program(caller, program_id)

    async def create_event(self, caller: Caller, body: EventBody, raw: dict[str, Any]) -> dict[str, Any]:
        require(caller, "write_events")
        if body.programID != event_map.DEFAULT_PROGRAM_ID:
            if not await self.store.objects("PROGRAM", Filter(id=body.programID, limit=1)):
                raise Invalid(
                    [Problem("programID", f"names no program ({body.programID!r})", "unknown_program")]
                )
        event_id = await self.writer.unused_event_id()
        fact = event_map.plan(body, event_id, self.writer.clock(), self.writer.limits)
        ven_ids = None
        if body.targets:
            if unknown := await self.store.unknown_targets(body.targets):
                reason = f"reach no VEN: {', '.join(unknown[:20])}"
                raise Invalid([Problem("targets", reason, "unknown_target")])
            ven_ids = await self.store.platform_vens(body.targets)
        fact = fact.model_copy(update={"venIds": ven_ids, "openadr": raw})
        written = await self.writer.append(fact)
        log.info("oadr.event_created", event_id=event_id, program_id=body.programID, mqtt_vens=ven_ids)
        at = written.at.isoformat()
        return {
            "id": event_id,
            "createdDateTime": at,
            "modificationDateTime": at,
            "objectType": "EVENT",
            **raw,
        }

    async def delete_event(self, caller: Caller, event_id: str) -> dict[str, Any]:
        """DELETE of a scheduled event cancels it, of an active one stops it (docs/openadr.md)."""
        require(caller, "write_events")
        shown = await self.event(caller, event_id)
        status = (await self.writer.registry.event(event_id) or {}).get("status")
        if status == "scheduled":
            await self.writer.cancel_event(event_id, via="OpenADR")
        elif status == "active":
            await self.writer.stop_event(event_id, via="OpenADR")
        else:  # 400: the spec has no 409 for DELETE
            raise OadrError(
                400, f"event {event_id} is {status}: only a scheduled or active event can be deleted"
            )
        return shown

    async def create_ven(self, caller: Caller, body: VenBody, raw: dict[str, Any]) -> dict[str, Any]:
        require(caller, "write_vens")
        owner, raw = self._ven_owner(caller, body, raw, None)
        await self._unique_name("VEN", body.venName, status=400)
        return await self._write("VEN", uuid.uuid4().hex, owner, raw)

    async def update_ven(
        self, caller: Caller, ven_id: str, body: VenBody, raw: dict[str, Any]
    ) -> dict[str, Any]:
        require(caller, "write_vens")
        old = await self.ven(caller, ven_id)
        owner, raw = self._ven_owner(caller, body, raw, old)
        await self._unique_name("VEN", body.venName, but=ven_id)
        shown = await self._write("VEN", ven_id, owner, raw)
        return {**shown, "createdDateTime": old["createdDateTime"]}

    async def delete_ven(self, caller: Caller, ven_id: str) -> dict[str, Any]:
        require(caller, "write_vens")
        return await self._delete("VEN", await self.ven(caller, ven_id))

    def _ven_owner(
        self, caller: Caller, body: VenBody, raw: dict[str, Any], old: dict[str, Any] | None
    ) -> tuple[str, dict[str, Any]]:
        """Whose VEN object this is, and its body: a BL names the VEN's client and grants its
        targets; a VEN writes its own, and keeps the targets the BL granted."""
        if caller.is_bl:
            if body.objectType == "VEN_VEN_REQUEST" or body.clientID is None:
                raise Invalid(
                    [
                        Problem(
                            "clientID",
                            "a BL sends a BL_VEN_REQUEST naming the VEN's clientID",
                            "missing_field",
                        )
                    ]
                )
            return body.clientID, raw
        if (
            body.objectType == "BL_VEN_REQUEST"
            or "targets" in raw
            or ("clientID" in raw and body.clientID != caller.client_id)
        ):
            raise OadrError(
                403, "a VEN sends a VEN_VEN_REQUEST: its clientID and targets are set by the VTN and the BL"
            )
        granted = {"targets": old["targets"]} if old and "targets" in old else {}
        return caller.client_id, {**raw, "clientID": caller.client_id, **granted}

    async def create_report(self, caller: Caller, body: ReportBody, raw: dict[str, Any]) -> dict[str, Any]:
        require(caller, "write_reports")
        ven_id = await self._reporting_ven(caller, body, raw)
        return await self._write(
            "REPORT", uuid.uuid4().hex, caller.client_id, {**raw, "clientID": caller.client_id}, ven_id
        )

    async def update_report(
        self, caller: Caller, report_id: str, body: ReportBody, raw: dict[str, Any]
    ) -> dict[str, Any]:
        require(caller, "write_reports")
        old = await self._own_report(caller, report_id)
        ven_id = await self._reporting_ven(caller, body, raw)
        shown = await self._write(
            "REPORT", report_id, caller.client_id, {**raw, "clientID": caller.client_id}, ven_id
        )
        return {**shown, "createdDateTime": old["createdDateTime"]}

    async def delete_report(self, caller: Caller, report_id: str) -> dict[str, Any]:
        require(caller, "write_reports")
        return await self._delete("REPORT", await self._own_report(caller, report_id))

    async def _own_report(self, caller: Caller, report_id: str) -> dict[str, Any]:
        """A report its own VEN may change (a BL reads reports, it does not write them)."""
        found = await self.store.objects("REPORT", Filter(id=report_id, owner=caller.client_id, limit=1))
        if not found:
            raise NotFound("report", report_id)
        return answer("REPORT", found[0])

    async def _reporting_ven(self, caller: Caller, body: ReportBody, raw: dict[str, Any]) -> str:
        """The platform VEN the report's readings are of: the caller's VEN object's venName.

        The event must be one the caller can see; DEMAND and BASELINE must read as kW
        (dr_contracts.openadr_reports, which the projector applies to the same body).
        """
        try:
            await self.event(caller, body.eventID)
        except NotFound:
            raise Invalid(
                [Problem("eventID", f"names no event of yours ({body.eventID!r})", "unknown_event")]
            ) from None
        try:
            report_readings(raw)
        except Rejected as err:
            raise Invalid([Problem(err.field or "resources", err.message, err.code)]) from None
        mine = await self.store.objects("VEN", Filter(owner=caller.client_id, limit=1))
        if not mine:
            raise Invalid(
                [Problem("clientName", "this client has no VEN object: POST /vens first", "no_ven")]
            )
        ven_name = str(mine[0]["body"]["venName"])
        if not ID.match(ven_name) or await self.store.mqtt_ven(ven_name):
            reason = f"venName {ven_name!r} cannot name its telemetry (not a platform id, or an MQTT VEN's)"
            raise Invalid([Problem("clientName", reason, "bad_ven_name")])
        return ven_name
