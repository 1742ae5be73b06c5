"""An event's projected state as a fold over its dr.events facts, monotonic by construction.

A fact that would move an event backwards (a late or replayed activation after the
end, a second creation) leaves the state as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from dr_contracts.facts import (
    Allocation,
    EventActivated,
    EventCancelled,
    EventCompleted,
    EventCreated,
    EventStopRequested,
    FactPayload,
)


@dataclass(frozen=True)
class EventState:
    """One row of `events` (without the ack aggregates, which come from ven_commands)."""

    event_id: str
    status: str
    start_time: datetime
    end_time: datetime
    requested_reduction_kw: float
    ven_ids: list[str] | None
    start_now: bool
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = None
    stop_requested_at: datetime | None = None
    ended_at: datetime | None = None
    allocated_kw: float | None = None
    unallocated_kw: float | None = None
    ven_count: int = 0


def evolve(state: EventState | None, fact: FactPayload, at: datetime) -> EventState | None:
    """The state after `fact` (which occurred at `at`); None while the event is unknown."""
    if isinstance(fact, EventCreated):
        return state or _created(fact, at)
    if state is None:
        return None  # nothing to move before the event exists (its creation comes first)
    if isinstance(fact, EventActivated):
        return _activated(state, fact, at)
    if isinstance(fact, EventStopRequested):
        status = "stopped" if state.status == "active" else state.status
        return replace(state, status=status, stop_requested_at=state.stop_requested_at or at, updated_at=at)
    if state.ended_at is not None:
        return state  # terminal: completed, stopped or cancelled stays so
    if isinstance(fact, EventCompleted):
        return replace(state, status=fact.outcome, ended_at=fact.completedAt, updated_at=at)
    if isinstance(fact, EventCancelled):
        return replace(state, status="cancelled", ended_at=at, updated_at=at)
    return state


def _created(fact: EventCreated, at: datetime) -> EventState:
    return EventState(
        event_id=fact.eventId,
        status="scheduled",
        start_time=fact.startTime,
        end_time=fact.endTime,
        requested_reduction_kw=fact.requestedReductionKw,
        ven_ids=list(fact.venIds) if fact.venIds is not None else None,
        start_now=fact.startNow,
        created_at=at,
        updated_at=at,
    )


def _activated(state: EventState, fact: EventActivated, at: datetime) -> EventState:
    if state.status != "scheduled":
        return state  # activated already, or ended before it could start
    return replace(
        state,
        status="active",
        activated_at=fact.activatedAt,
        allocated_kw=sum(a.shedKw for a in fact.allocations),
        unallocated_kw=fact.unallocatedKw,
        ven_count=len(fact.allocations),
        updated_at=at,
    )


@dataclass
class EventChanges:
    """What a batch of dr.events facts changes: event rows and the allocations to record."""

    states: dict[str, EventState]
    allocations: list[tuple[str, Allocation]]
    unknown: list[str]


def fold(known: dict[str, EventState], facts: list[tuple[FactPayload, datetime]]) -> EventChanges:
    """Apply `facts` (in log order) to the `known` rows; return only what changed."""
    states = dict(known)
    changes = EventChanges(states={}, allocations=[], unknown=[])
    for fact, at in facts:
        event_id = fact.eventId  # type: ignore[attr-defined]
        before = states.get(event_id)
        after = evolve(before, fact, at)
        if after is None:
            changes.unknown.append(event_id)
            continue
        if after is before:
            continue
        states[event_id] = changes.states[event_id] = after
        if isinstance(fact, EventActivated) and after.status == "active" and before is not None:
            changes.allocations += [(event_id, a) for a in fact.allocations]
    return changes
