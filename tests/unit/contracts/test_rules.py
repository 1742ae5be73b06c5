"""The shared rules, pinned: every service derives its behaviour from these values."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from dr_contracts.rules import (
    EVENT_STATUSES,
    MAX_EVENT_DURATION,
    ONLINE_MISSED_INTERVALS,
    EventStatus,
    event_status,
    shown_status,
)

pytestmark = pytest.mark.unit

BOOLS = (False, True)


def test_contract_values() -> None:
    """docs/contract.md: offline after 3 missed reports; events and commands last at most 7 days."""
    assert ONLINE_MISSED_INTERVALS == 3
    assert MAX_EVENT_DURATION == timedelta(days=7)
    assert set(EVENT_STATUSES) == {"scheduled", "active", "completed", "stopped", "cancelled"}


@pytest.mark.parametrize(
    ("outcome", "activated", "cancelled", "end"), list(product(["completed", "stopped"], *[BOOLS] * 3))
)
def test_the_first_completion_is_final(
    outcome: EventStatus, activated: bool, cancelled: bool, end: bool
) -> None:
    assert (
        event_status(outcome=outcome, activated=activated, cancelled=cancelled, end_requested=end) == outcome
    )


@pytest.mark.parametrize(
    ("activated", "cancelled", "end", "expected"),
    [
        (False, False, False, "scheduled"),
        (False, False, True, "scheduled"),  # a stop before activation: the dispatcher has not acted yet
        (False, True, False, "cancelled"),
        (False, True, True, "cancelled"),
        (True, False, False, "active"),
        (True, False, True, "stopped"),  # stopped at once, completed once the VENs are restored
        (True, True, True, "stopped"),  # a cancel seen after activation is an early stop
        (True, True, False, "active"),
    ],
)
def test_status_before_completion(activated: bool, cancelled: bool, end: bool, expected: EventStatus) -> None:
    assert event_status(outcome=None, activated=activated, cancelled=cancelled, end_requested=end) == expected


@pytest.mark.parametrize(
    ("start_now", "stop", "expected"),
    [(False, False, "scheduled"), (True, False, "active"), (False, True, "stopped"), (True, True, "stopped")],
)
def test_a_scheduled_event_shows_what_was_asked(start_now: bool, stop: bool, expected: EventStatus) -> None:
    assert shown_status("scheduled", start_now=start_now, stop_requested=stop) == expected


@pytest.mark.parametrize(
    ("status", "start_now", "stop"),
    list(product([s for s in EVENT_STATUSES if s != "scheduled"], BOOLS, BOOLS)),
)
def test_once_the_dispatcher_acted_its_status_shows(status: EventStatus, start_now: bool, stop: bool) -> None:
    assert shown_status(status, start_now=start_now, stop_requested=stop) == status
