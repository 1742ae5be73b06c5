"""An event's projected state as a fold over its dr.events facts, agreeing with the dispatcher.

The dispatcher's fold (dispatcher/domain/events.py) decides what happens to the VENs, so
this one follows its rules: the first EventActivated is the allocation (even after a
cancel that the dispatcher had not yet seen when it activated: commands went out), the
first EventCompleted ends the event, and a cancel after activation is an early stop
(the dispatcher restores the VENs and appends EventCompleted "stopped"). Only a cancel
before activation ends the event as `cancelled`. Facts after the end change nothing.
The status itself comes from the rule both folds share, dr_contracts.rules.event_status.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dr_contracts.facts import (
    Allocation,
    EventActivated,
    EventAmended,
    EventCancelled,
    EventCompleted,
    EventCreated,
    EventStopRequested,
    FactPayload,
)
from dr_contracts.rules import EventStatus, event_status


@dataclass(frozen=True)
class EventState:
    """One row of `events` (without the ack aggregates, which come from ven_commands)."""

    event_id: str
    status: EventStatus
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
    #: From EventCreated: the OpenADR 3 program and event object (docs/openadr.md).
    program_id: str | None = None
    openadr: dict[str, Any] | None = None


def evolve(state: EventState | None, fact: FactPayload, at: datetime) -> EventState | None:
    """The state after `fact` (which occurred at `at`); None while the event is unknown."""
    if isinstance(fact, EventCreated):
        return state or _created(fact, at)
    if state is None:
        return None  # nothing to move before the event exists (its creation comes first)
    if isinstance(fact, EventAmended):  # what it is called, not what it does: also once ended
        return replace(state, openadr=fact.openadr, updated_at=at)
    if _completed(state):
        return state  # the first EventCompleted is final, as for the dispatcher
    if isinstance(fact, EventStopRequested):
        return _end_requested(state, at)
    if isinstance(fact, EventActivated):
        return _activated(state, fact, at)
    if isinstance(fact, EventCompleted):
        return _moved(state, at, outcome=fact.outcome, ended_at=fact.completedAt)
    if isinstance(fact, EventCancelled):
        if state.activated_at is not None:
            return _end_requested(state, at)  # commands are out: an early stop, not a cancel
        if state.status != "cancelled":
            return _moved(state, at, ended_at=at)
    return state


def _moved(state: EventState, at: datetime, outcome: EventStatus | None = None, **changes: Any) -> EventState:
    """`state` with `changes` applied at `at`, its status from the shared rule.

    Before an EventCompleted only a cancel before activation sets `ended_at`, and a cancel
    after it (or raced past by the activation) is recorded as the stop request.
    """
    moved = replace(state, updated_at=at, **changes)
    status = event_status(
        outcome=outcome,
        activated=moved.activated_at is not None,
        cancelled=moved.ended_at is not None,
        end_requested=moved.stop_requested_at is not None,
    )
    return replace(moved, status=status)


def _completed(state: EventState) -> bool:
    """An EventCompleted was applied (a cancel before activation is not one: it may be raced)."""
    return state.ended_at is not None and state.status != "cancelled"


def _end_requested(state: EventState, at: datetime) -> EventState:
    """Stop (or cancel after activation): an active event shows `stopped` until it completes."""
    return _moved(state, at, stop_requested_at=state.stop_requested_at or at)


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
        program_id=fact.programId,
        openadr=fact.openadr,
    )


def _activated(state: EventState, fact: EventActivated, at: datetime) -> EventState:
    """The first activation is the allocation; an end asked for before it makes it `stopped`.

    After a cancel (the dispatcher activated before it saw it) the event is no longer
    cancelled: the VENs were commanded, and the dispatcher will restore them and complete it
    as `stopped`. The cancel's time becomes the stop request's time.
    """
    if state.activated_at is not None:
        return state
    cancelled_at = state.ended_at if state.status == "cancelled" else None
    return _moved(
        state,
        at,
        activated_at=fact.activatedAt,
        stop_requested_at=state.stop_requested_at or cancelled_at,
        ended_at=None,
        allocated_kw=sum(a.shedKw for a in fact.allocations),
        unallocated_kw=fact.unallocatedKw,
        ven_count=len(fact.allocations),
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
        if isinstance(fact, EventActivated):  # accepted (an ignored fact returns the same state)
            changes.allocations += [(event_id, a) for a in fact.allocations]
    return changes
