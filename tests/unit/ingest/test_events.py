"""An event's projected state is a monotonic fold over its dr.events facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dr_contracts.facts import (
    Allocation,
    EventActivated,
    EventCancelled,
    EventCompleted,
    EventCreated,
    EventStopRequested,
)
from ingest.domain.events import fold

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
EID = "evt-0000abcd"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


CREATED = EventCreated(
    eventId=EID, startTime=at(10), endTime=at(70), requestedReductionKw=10.0, venIds=["ven-1", "ven-2"]
)
ACTIVATED = EventActivated(
    eventId=EID,
    activatedAt=at(10),
    unallocatedKw=1.0,
    allocations=[
        Allocation(venId="ven-1", shedKw=5.0, capabilityKw=6.0),
        Allocation(venId="ven-2", shedKw=4.0),
    ],
)


def run(*facts: object) -> object:
    changes = fold({}, [(f, at(i)) for i, f in enumerate(facts)])
    return changes


def test_created_then_activated() -> None:
    changes = run(CREATED, ACTIVATED)
    state = changes.states[EID]
    assert (state.status, state.activated_at, state.allocated_kw, state.unallocated_kw, state.ven_count) == (
        "active",
        at(10),
        9.0,
        1.0,
        2,
    )
    assert state.ven_ids == ["ven-1", "ven-2"]
    assert [(e, a.venId) for e, a in changes.allocations] == [(EID, "ven-1"), (EID, "ven-2")]


def test_stop_then_completed_stopped_sets_end() -> None:
    state = run(
        CREATED,
        ACTIVATED,
        EventStopRequested(eventId=EID),
        EventCompleted(eventId=EID, completedAt=at(30), outcome="stopped"),
    ).states[EID]
    assert (state.status, state.stop_requested_at, state.ended_at) == ("stopped", at(2), at(30))


def test_stop_marks_an_active_event_stopped_at_once() -> None:
    state = run(CREATED, ACTIVATED, EventStopRequested(eventId=EID)).states[EID]
    assert (state.status, state.ended_at) == ("stopped", None)


def test_completed() -> None:
    state = run(CREATED, ACTIVATED, EventCompleted(eventId=EID, completedAt=at(70))).states[EID]
    assert (state.status, state.ended_at) == ("completed", at(70))


def test_cancelled_before_start() -> None:
    state = run(CREATED, EventCancelled(eventId=EID)).states[EID]
    assert (state.status, state.ended_at) == ("cancelled", at(1))


@pytest.mark.parametrize(
    "late",
    [
        ACTIVATED,
        EventCancelled(eventId=EID),
        EventCompleted(eventId=EID, completedAt=at(99), outcome="stopped"),
        CREATED,
    ],
)
def test_a_late_fact_never_moves_an_ended_event(late: object) -> None:
    state = run(CREATED, ACTIVATED, EventCompleted(eventId=EID, completedAt=at(70)), late).states[EID]
    assert (state.status, state.ended_at) == ("completed", at(70))


def test_activation_after_cancel_is_ignored_and_records_no_allocation() -> None:
    changes = run(CREATED, EventCancelled(eventId=EID), ACTIVATED)
    assert changes.states[EID].status == "cancelled"
    assert changes.allocations == []


def test_second_activation_changes_nothing() -> None:
    first = run(CREATED, ACTIVATED)
    again = fold(first.states, [(ACTIVATED, at(50))])
    assert again.states == {} and again.allocations == []


def test_facts_of_an_unknown_event_are_reported() -> None:
    changes = run(ACTIVATED)
    assert changes.states == {} and changes.unknown == [EID]
