"""`plan_event` and the transition checks: bounds, problem codes and hints mutation testing found unpinned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.domain.errors import Conflict, Invalid
from api.domain.events import check_cancel, check_stop, plan_event
from api.domain.limits import MAX_DURATION
from tests.unit.api.test_domain import LIMITS, NOW, _event, _iso

pytestmark = pytest.mark.unit

LATER = NOW + timedelta(hours=1)
_PAST, _LATER, _TOO_LONG = (
    _iso(t) for t in (NOW - timedelta(hours=1), LATER, LATER + MAX_DURATION + timedelta(seconds=1))
)


def test_each_bound_is_inclusive_where_the_contract_says_so() -> None:
    """A start exactly at the tolerance and an event of exactly MAX_DURATION are accepted."""
    start = NOW - LIMITS.past_start_tolerance
    assert plan_event(_event(startTime=_iso(start)), "e", NOW, LIMITS).startTime == start
    longest = _event(startTime=_iso(LATER), endTime=_iso(LATER + MAX_DURATION))
    assert plan_event(longest, "e", NOW, LIMITS).endTime == LATER + MAX_DURATION


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({"startTime": None}, {"startTime": "missing_field"}),
        ({"startTime": _PAST, "endTime": _iso(NOW)}, {"startTime": "in_past", "endTime": "in_past"}),
        ({"startTime": _LATER, "endTime": _LATER}, {"endTime": "end_before_start"}),
        ({"startTime": _LATER, "endTime": _TOO_LONG}, {"endTime": "out_of_range"}),
        ({"venIds": []}, {"venIds": "too_short"}),
        ({"venIds": ["ven-1", "ven-1"]}, {"venIds": "duplicate"}),
    ],
)
def test_each_refusal_has_its_stable_code_and_a_reason(
    body: dict[str, object], codes: dict[str, str]
) -> None:
    with pytest.raises(Invalid) as exc:
        plan_event(_event(**body), "e", NOW, LIMITS)
    assert {p.field: p.code for p in exc.value.problems} == codes
    assert all(p.reason for p in exc.value.problems)


@pytest.mark.parametrize(
    ("check", "status", "hint"),
    [
        (check_cancel, "active", "POST .../stop"),
        (check_cancel, "completed", None),
        (check_stop, "scheduled", "DELETE"),
        (check_stop, "cancelled", None),
    ],
)
def test_a_refused_transition_names_the_right_one(check: object, status: str, hint: str | None) -> None:
    """The 409's text names the endpoint that does what the client wanted, when there is one."""
    with pytest.raises(Conflict) as exc:
        check("evt-1", status)  # type: ignore[operator]
    message = str(exc.value)
    assert message.startswith(f"event evt-1 is {status}: ")
    assert (hint in message) if hint else (";" not in message)
