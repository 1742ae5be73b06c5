"""`plan_command` details that mutation testing found unpinned: problem codes, duration bounds, restore."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.domain.commands import SendCommand, plan_command
from api.domain.errors import Invalid
from api.domain.limits import MAX_DURATION
from dr_contracts.commands import parse_command
from tests.unit.api.test_domain import LIMITS, NOW, _command

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({}, {"shedKw": "missing_field"}),
        ({"shedKw": 1, "requestedReductionKw": 1}, {"requestedReductionKw": "ambiguous"}),
        ({"shedKw": 1, "durationSec": 60, "duration_s": 60}, {"duration_s": "ambiguous"}),
        ({"shedKw": None}, {"shedKw": "wrong_type"}),
        ({"shedKw": 1, "durationSec": None}, {"durationSec": "wrong_type"}),
        ({"shedKw": 1, "durationSec": 0.5}, {"durationSec": "out_of_range"}),
        (
            {"op": "restore", "shedKw": 1, "durationS": 6},
            {"shedKw": "not_allowed", "durationS": "not_allowed"},
        ),
    ],
)
def test_each_refusal_has_its_stable_code_and_a_reason(
    body: dict[str, object], codes: dict[str, str]
) -> None:
    """`code` is what metrics count (errors.Problem), so each rule's code is pinned, not only the field."""
    with pytest.raises(Invalid) as exc:
        _command(**body)
    assert {p.field: p.code for p in exc.value.problems} == codes
    assert all(p.reason for p in exc.value.problems)


@pytest.mark.parametrize("seconds", [1, MAX_DURATION.total_seconds()])
def test_durations_at_both_bounds_are_accepted(seconds: float) -> None:
    assert parse_command(_command(shedKw=1, durationSec=seconds)).durationS == seconds


def test_a_restore_names_the_ven_and_the_given_event() -> None:
    fact = plan_command(
        "ven-1",
        SendCommand(op="restore", eventId="evt-7"),
        correlation_id="cmd-1",
        event_id="evt-unused",
        now=NOW,
        limits=LIMITS,
    )
    command = parse_command(fact.payload)
    assert (fact.op, fact.venId, command.venId, command.eventId) == ("restore", "ven-1", "ven-1", "evt-7")


def test_a_duration_just_over_the_limit_is_refused() -> None:
    with pytest.raises(Invalid) as exc:
        _command(shedKw=1, durationSec=(MAX_DURATION + timedelta(seconds=1)).total_seconds())
    assert [p.code for p in exc.value.problems] == ["out_of_range"]


def test_an_event_command_names_the_ven() -> None:
    assert parse_command(_command(shedKw=1)).venId == "ven-1"
