from datetime import timedelta

import pytest

from dispatcher.domain.decisions import Activate, Done, FanOut, Finish, Prepare, WaitUntil, decide
from dispatcher.domain.events import apply
from dr_contracts.facts import (
    Allocation,
    EventActivated,
    EventCancelled,
    EventCompleted,
    EventCreated,
    EventStopRequested,
)
from tests.unit.dispatcher.fakes import T0

pytestmark = pytest.mark.unit

START, END = T0 + timedelta(minutes=10), T0 + timedelta(minutes=70)
CREATED = EventCreated(eventId="evt-1", startTime=START, endTime=END, requestedReductionKw=5)
ACTIVATED = EventActivated(
    eventId="evt-1",
    activatedAt=START,
    unallocatedKw=0,
    allocations=[Allocation(venId="v1", shedKw=5, capabilityKw=None)],
)


def fold(*facts):
    state = None
    for fact in facts:
        state = apply(state, fact, partition=2)
    return state


def test_fold_follows_the_lifecycle():
    assert fold(CREATED).status == "scheduled"
    assert fold(CREATED).partition == 2
    assert fold(CREATED, ACTIVATED).status == "active"
    done = EventCompleted(eventId="evt-1", completedAt=END, outcome="completed")
    assert fold(CREATED, ACTIVATED, done).status == "completed"
    assert fold(CREATED, EventCancelled(eventId="evt-1")).status == "cancelled"


def test_facts_before_creation_are_ignored():
    assert fold(ACTIVATED) is None


def test_first_activation_wins():
    later = ACTIVATED.model_copy(update={"activatedAt": END, "allocations": []})
    assert fold(CREATED, ACTIVATED, later).activation == ACTIVATED


def test_nothing_changes_after_completion():
    done = EventCompleted(eventId="evt-1", completedAt=END, outcome="stopped")
    state = fold(CREATED, ACTIVATED, done, EventStopRequested(eventId="evt-1"))
    assert state.status == "stopped" and not state.stop_requested


def test_cancel_after_activation_is_an_early_end():
    state = fold(CREATED, ACTIVATED, EventCancelled(eventId="evt-1"))
    assert state.status == "stopped" and state.end_requested  # shown stopped; VENs still to restore
    assert decide(state, START, fanned_out=True) == Finish("stopped")


def test_activation_read_after_a_cancel_still_counts():
    state = fold(CREATED, EventCancelled(eventId="evt-1"), ACTIVATED)
    assert decide(state, START, fanned_out=False) == Finish("stopped")


def test_shed_window_starts_at_activation():
    late = ACTIVATED.model_copy(update={"activatedAt": START + timedelta(minutes=5)})
    assert fold(CREATED, late).shed_start == START + timedelta(minutes=5)
    assert fold(CREATED, ACTIVATED).shed_start == START


@pytest.mark.parametrize(
    ("facts", "now", "fanned_out", "expected"),
    [
        ((CREATED,), T0, False, WaitUntil(START)),
        ((CREATED,), START, False, Activate()),
        ((CREATED,), END, False, Finish("completed")),
        ((CREATED.model_copy(update={"startNow": True}),), T0, False, Activate()),
        ((CREATED, EventCancelled(eventId="evt-1")), START, False, Done()),
        ((CREATED, EventStopRequested(eventId="evt-1")), T0, False, Finish("stopped")),
        ((CREATED, ACTIVATED), START, False, FanOut()),
        ((CREATED, ACTIVATED), START, True, WaitUntil(END)),
        ((CREATED, ACTIVATED), END, True, Finish("completed")),
        ((CREATED, ACTIVATED, EventStopRequested(eventId="evt-1")), START, True, Finish("stopped")),
        ((CREATED, ACTIVATED, EventCompleted(eventId="evt-1", completedAt=END)), END, True, Done()),
    ],
)
def test_decide(facts, now, fanned_out, expected):
    assert decide(fold(*facts), now, fanned_out) == expected


LEAD = timedelta(seconds=2)


@pytest.mark.parametrize(
    ("now", "prepared", "expected"),
    [
        (T0, False, WaitUntil(START - LEAD)),
        (START - LEAD, False, Prepare()),
        (START - LEAD, True, WaitUntil(START)),
        (START, True, Activate()),
        (START, False, Activate()),  # too late to prepare: activate at once
    ],
)
def test_decide_prepares_shortly_before_the_start(now, prepared, expected):
    assert decide(fold(CREATED), now, False, prepared=prepared, prepare_lead=LEAD) == expected


def test_nothing_is_prepared_for_a_cancelled_or_started_event():
    cancelled = fold(CREATED, EventCancelled(eventId="evt-1"))
    assert decide(cancelled, START - LEAD, False, prepare_lead=LEAD) == Done()
    started = fold(CREATED, ACTIVATED)
    assert decide(started, START - LEAD, True, prepare_lead=LEAD) == WaitUntil(END)
