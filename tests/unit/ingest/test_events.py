"""An event's projected state is a fold over its dr.events facts that agrees with the dispatcher's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain import events as dispatcher_events
from dr_contracts.facts import (
    Allocation,
    EventActivated,
    EventCancelled,
    EventCompleted,
    EventCreated,
    EventStopRequested,
    FactPayload,
)
from ingest.domain.events import EventChanges, EventState, fold

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


CANCELLED = EventCancelled(eventId=EID)
STOP = EventStopRequested(eventId=EID)
COMPLETED = EventCompleted(eventId=EID, completedAt=at(70))
STOPPED = EventCompleted(eventId=EID, completedAt=at(30), outcome="stopped")


def run(*facts: FactPayload) -> EventChanges:
    return fold({}, [(f, at(i)) for i, f in enumerate(facts)])


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
        EventStopRequested(eventId=EID),
        CREATED,
    ],
)
def test_a_late_fact_never_moves_an_ended_event(late: object) -> None:
    ended = run(CREATED, ACTIVATED, EventCompleted(eventId=EID, completedAt=at(70))).states[EID]
    assert run(CREATED, ACTIVATED, EventCompleted(eventId=EID, completedAt=at(70)), late).states[EID] == ended
    assert (ended.status, ended.ended_at, ended.stop_requested_at) == ("completed", at(70), None)


def test_cancel_after_activation_is_an_early_stop() -> None:
    state = run(CREATED, ACTIVATED, CANCELLED).states[EID]
    assert (state.status, state.stop_requested_at, state.ended_at) == ("stopped", at(2), None)


def test_cancel_after_activation_then_completed_stopped_ends_it_stopped() -> None:
    state = run(CREATED, ACTIVATED, CANCELLED, STOPPED).states[EID]
    assert (state.status, state.activated_at, state.ended_at) == ("stopped", at(10), at(30))


def test_activation_raced_past_a_cancel_is_an_early_stop_too() -> None:
    """The dispatcher activated before it saw the cancel: VENs were told to shed, then restored."""
    changes = run(CREATED, CANCELLED, ACTIVATED)
    state = changes.states[EID]
    assert (state.status, state.activated_at, state.stop_requested_at, state.ended_at) == (
        "stopped",
        at(10),
        at(1),
        None,
    )
    assert [a.venId for _, a in changes.allocations] == ["ven-1", "ven-2"]
    state = fold(changes.states, [(STOPPED, at(3))]).states[EID]
    assert (state.status, state.ended_at) == ("stopped", at(30))


def test_cancel_before_activation_stays_cancelled_without_an_activation() -> None:
    state = run(CREATED, CANCELLED, CANCELLED, STOP).states[EID]
    assert (state.status, state.ended_at, state.activated_at) == ("cancelled", at(1), None)


def test_second_activation_changes_nothing() -> None:
    first = run(CREATED, ACTIVATED)
    again = fold(first.states, [(ACTIVATED, at(50))])
    assert again.states == {} and again.allocations == []


def test_facts_of_an_unknown_event_are_reported() -> None:
    changes = run(ACTIVATED)
    assert changes.states == {} and changes.unknown == [EID]


#: Every fact the dispatcher or the API may append about an event after its creation.
LATER_FACTS = [ACTIVATED, CANCELLED, STOP, COMPLETED, STOPPED]


def dispatcher_view(facts: list[FactPayload]) -> tuple[str, bool]:
    """The status the dispatcher's own fold gives (as the projection shows it), and whether it activated.

    The projection shows `stopped` as soon as an end is asked for on an activated event; the
    dispatcher still calls it active until its restores are out and EventCompleted appended.
    """
    state = None
    for fact in facts:
        state = dispatcher_events.apply(state, fact, partition=0)
    assert state is not None
    status = "stopped" if state.status == "active" and state.end_requested else state.status
    return status, state.activation is not None


@given(st.lists(st.sampled_from(LATER_FACTS), max_size=6), st.integers(min_value=0, max_value=7))
def test_the_projection_agrees_with_the_dispatcher(later: list[FactPayload], split: int) -> None:
    """Any order of facts, folded in one batch or two (state reloaded from the row): same outcome."""
    facts: list[FactPayload] = [CREATED, *later]
    timed = [(f, at(i)) for i, f in enumerate(facts)]
    first = fold({}, timed[:split]).states
    state: EventState = (first | fold(first, timed[split:]).states)[EID]
    assert (state.status, state.activated_at is not None) == dispatcher_view(facts)
