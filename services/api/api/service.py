"""Write use cases: check against the read model, append one fact, wait until it is readable.

Each request appends exactly one fact, so a request is either fully written or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from api.domain import commands, events, vens
from api.domain.errors import Invalid, NotFound, Problem
from api.domain.limits import Limits
from api.ports import FactLog, ProjectionWatch, Registry
from dr_contracts import ids
from dr_contracts.facts import EventCancelled, EventStopRequested, FactPayload, VenDeleted, new_fact

log = structlog.get_logger(__name__)

#: Draws of a random event id before giving up (each draw collides with odds of taken / 2^32).
_ID_DRAWS = 8


@dataclass(frozen=True)
class Written:
    """A write's outcome: the fact's payload and whether the read model had caught up."""

    payload: Any
    behind: bool
    at: datetime


@dataclass
class Writer:
    """Turns validated requests into facts on the log."""

    facts: FactLog
    registry: Registry
    watch: ProjectionWatch
    limits: Limits
    wait_timeout_s: float
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    new_event_id: Callable[[], str] = ids.new_event_id

    async def append(self, payload: FactPayload) -> Written:
        """Append one fact, then wait (bounded) until the read model shows it."""
        fact = new_fact(payload, occurred_at=self.clock())
        position = await self.facts.append(fact)
        caught_up = await self.watch.wait_past(position, self.wait_timeout_s)
        if not caught_up:
            log.warning(
                "read_model.behind",
                fact_type=payload.TYPE,
                key=payload.key(),
                topic=position.topic,
                partition=position.partition,
                offset=position.offset,
            )
        return Written(payload, behind=not caught_up, at=fact.occurredAt)

    async def unused_event_id(self) -> str:
        """`evt-` + 8 hex (docs/contract.md) is only 32 bits: draw again while the id is taken,
        or a second EventCreated with a known id would be acknowledged and then ignored."""
        for _ in range(_ID_DRAWS):
            event_id = self.new_event_id()
            if await self.registry.event(event_id) is None:
                return event_id
            log.warning("event.id_taken", event_id=event_id)
        raise RuntimeError(f"no unused event id in {_ID_DRAWS} draws")

    async def create_event(self, req: events.NewEvent) -> Written:
        fact = events.plan_event(req, await self.unused_event_id(), self.clock(), self.limits)
        if fact.venIds:
            unknown = await self.registry.unknown_vens(fact.venIds)
            if unknown:
                reason = f"not registered: {', '.join(unknown[:20])}"
                raise Invalid([Problem("venIds", reason, "unknown_ven")])
        written = await self.append(fact)
        log.info("event.created", event_id=fact.eventId, start_now=fact.startNow)
        return written

    async def _event(self, event_id: str) -> dict[str, Any]:
        event = await self.registry.event(event_id)
        if event is None:
            raise NotFound("event", event_id)
        return event

    async def stop_event(self, event_id: str, via: str = "REST") -> tuple[dict[str, Any], Written]:
        event = await self._event(event_id)
        events.check_stop(event_id, event["status"])
        written = await self.append(EventStopRequested(eventId=event_id, reason=f"stopped over {via}"))
        log.info("event.stop_requested", event_id=event_id)
        return event, written

    async def cancel_event(self, event_id: str, via: str = "REST") -> tuple[dict[str, Any], Written]:
        event = await self._event(event_id)
        events.check_cancel(event_id, event["status"])
        written = await self.append(EventCancelled(eventId=event_id, reason=f"cancelled over {via}"))
        log.info("event.cancelled", event_id=event_id)
        return event, written

    async def register_ven(self, req: vens.NewVen) -> Written:
        ven_id = vens.new_ven_id(req)
        ref = await self.registry.ven(ven_id)
        source = ref.source if ref is not None and not ref.deleted else None
        written = await self.append(vens.plan_registration(req, ven_id, source))
        log.info("ven.registered", ven_id=ven_id, adopted=source is not None)
        return written

    async def _live_ven(self, ven_id: str) -> None:
        ref = await self.registry.ven(ven_id)
        if ref is None or ref.deleted:
            raise NotFound("VEN", ven_id)

    async def update_ven(self, ven_id: str, patch: vens.VenPatch) -> Written:
        fact = vens.plan_update(ven_id, patch)
        await self._live_ven(ven_id)
        written = await self.append(fact)
        log.info("ven.updated", ven_id=ven_id, fields=sorted(patch.model_fields_set))
        return written

    async def delete_ven(self, ven_id: str) -> Written:
        await self._live_ven(ven_id)
        written = await self.append(VenDeleted(venId=ven_id))
        log.info("ven.deleted", ven_id=ven_id)
        return written

    async def send_command(self, ven_id: str, req: commands.SendCommand) -> Written:
        correlation_id = ids.direct_correlation_id(ven_id)
        fact = commands.plan_command(
            ven_id,
            req,
            correlation_id=correlation_id,
            event_id=ids.new_event_id(),
            now=self.clock(),
            limits=self.limits,
        )
        await self._live_ven(ven_id)
        written = await self.append(fact)
        log.info("command.requested", ven_id=ven_id, correlation_id=correlation_id, op=fact.op)
        return written
