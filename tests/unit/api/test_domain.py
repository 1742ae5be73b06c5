"""Pure request rules: what each body means and why it is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from api.domain.commands import SendCommand, plan_command
from api.domain.errors import Conflict, Invalid
from api.domain.events import NewEvent, check_cancel, check_stop, plan_event
from api.domain.limits import Limits
from api.domain.vens import NewVen, VenPatch, plan_registration, plan_update
from dr_contracts.commands import parse_command

pytestmark = pytest.mark.unit

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits(max_kw=1000, past_start_tolerance=timedelta(minutes=5))


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _event(**body: object) -> NewEvent:
    base = {
        "startTime": _iso(NOW + timedelta(hours=1)),
        "endTime": _iso(NOW + timedelta(hours=2)),
        "requestedReductionKw": 5,
    }
    return NewEvent.model_validate(base | body)


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {p.field: p.code for p in exc.value.problems}


def test_scheduled_event_keeps_its_times() -> None:
    fact = plan_event(_event(), "evt-00000001", NOW, LIMITS)
    assert (fact.startTime, fact.endTime, fact.startNow) == (
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=2),
        False,
    )
    assert fact.requestedReductionKw == 5.0


def test_active_means_start_now() -> None:
    fact = plan_event(_event(status="active"), "evt-00000001", NOW, LIMITS)
    assert fact.startNow and fact.startTime == NOW


def test_active_keeps_an_earlier_start_and_needs_no_start() -> None:
    earlier = NOW - timedelta(minutes=30)
    assert plan_event(_event(status="active", startTime=_iso(earlier)), "e", NOW, LIMITS).startTime == earlier
    body = {"endTime": _iso(NOW + timedelta(hours=1)), "requestedReductionKw": 1, "status": "active"}
    assert plan_event(NewEvent.model_validate(body), "e", NOW, LIMITS).startTime == NOW


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"endTime": _iso(NOW + timedelta(minutes=30))}, "endTime", "end_before_start"),
        ({"endTime": _iso(NOW + timedelta(days=9))}, "endTime", "out_of_range"),
        ({"requestedReductionKw": 0}, "requestedReductionKw", "out_of_range"),
        ({"requestedReductionKw": -3}, "requestedReductionKw", "out_of_range"),
        ({"requestedReductionKw": 1e6}, "requestedReductionKw", "out_of_range"),
        ({"startTime": _iso(NOW - timedelta(minutes=10))}, "startTime", "in_past"),
        ({"startTime": None}, "startTime", "missing_field"),
        ({"venIds": []}, "venIds", "too_short"),
        ({"venIds": ["ven-1", "ven-1"]}, "venIds", "duplicate"),
        ({"status": "active", "endTime": _iso(NOW - timedelta(minutes=1))}, "endTime", "in_past"),
    ],
)
def test_event_rules(body: dict[str, object], field: str, code: str) -> None:
    with pytest.raises(Invalid) as exc:
        plan_event(_event(**body), "e", NOW, LIMITS)
    assert _fields(exc)[field] == code


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        plan_event(_event(requestedReductionKw=-1, endTime=_iso(NOW)), "e", NOW, LIMITS)
    assert set(_fields(exc)) == {"requestedReductionKw", "endTime"}


def test_start_within_tolerance_is_accepted() -> None:
    plan_event(_event(startTime=_iso(NOW - timedelta(minutes=4))), "e", NOW, LIMITS)


@pytest.mark.parametrize(
    "body",
    [
        {"startTime": "2030-01-01T13:00:00"},  # naive
        {"startTime": 1893499200},  # Unix seconds are not ISO 8601
        {"requestedReductionKw": "5"},
        {"requestedReductionKw": True},
        {"requestedReductionKw": float("nan")},
        {"status": "completed"},
        {"color": "red"},
        {"venIds": ["ven 1"]},
        {"startTime": "2150-01-01T00:00:00Z"},
    ],
)
def test_body_shape_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _event(**body)


def test_query_string_plus_turned_space_is_repaired() -> None:
    assert _event(startTime="2030-01-01T14:00:00 01:00").startTime == NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("status", "stop_ok", "cancel_ok"),
    [
        ("scheduled", False, True),
        ("active", True, False),
        ("completed", False, False),
        ("stopped", False, False),
        ("cancelled", False, False),
    ],
)
def test_transitions(status: str, stop_ok: bool, cancel_ok: bool) -> None:
    for check, ok in ((check_stop, stop_ok), (check_cancel, cancel_ok)):
        if ok:
            check("evt-1", status)
        else:
            with pytest.raises(Conflict):
                check("evt-1", status)


def test_registration_id_becomes_ven_id_and_conflicts_only_with_registered() -> None:
    req = NewVen(name=" Site A ", registrationId="ven-site-a")
    assert plan_registration(req, "ven-site-a", None).name == "Site A"
    assert plan_registration(req, "ven-site-a", "telemetry").venId == "ven-site-a"
    with pytest.raises(Conflict):
        plan_registration(req, "ven-site-a", "api")
    with pytest.raises(Invalid):
        plan_registration(NewVen(name="   "), "ven-x", None)


def test_patch_needs_a_field_and_refuses_nulls() -> None:
    with pytest.raises(Invalid) as exc:
        plan_update("ven-1", VenPatch())
    assert _fields(exc) == {"body": "missing_field"}
    with pytest.raises(Invalid) as exc:
        plan_update("ven-1", VenPatch.model_validate({"name": None}))
    assert _fields(exc) == {"name": "wrong_type"}
    assert plan_update("ven-1", VenPatch(status="maintenance")).status == "maintenance"


def _command(**body: object) -> dict[str, object]:
    fact = plan_command(
        "ven-1",
        SendCommand.model_validate(body),
        correlation_id="cmd-ven-1-x",
        event_id="evt-00000001",
        now=NOW,
        limits=LIMITS,
    )
    return fact.payload


@pytest.mark.parametrize(
    ("body", "shed", "seconds"),
    [
        ({"shedKw": 2}, 2.0, 3600),
        ({"requestedReductionKw": 3, "durationSec": 600}, 3.0, 600),
        ({"shed_kw": 1.5, "duration_s": 90}, 1.5, 90),
        ({"shedKw": 1, "durationMinutes": 15}, 1.0, 900),
    ],
)
def test_send_event_spellings_make_a_command_firmware_reads(
    body: dict[str, object], shed: float, seconds: int
) -> None:
    command = parse_command(_command(**body))
    assert (command.op, command.shedKw, command.durationS) == ("event", shed, seconds)
    assert command.correlationId == "cmd-ven-1-x" and command.eventId == "evt-00000001"


def test_restore_and_shed_panel() -> None:
    assert parse_command(_command(op="restore")).op == "restore"
    assert parse_command(_command(op="shedPanel", shedKw=1)).op == "shedPanel"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "shedKw"),
        ({"shedKw": 1, "requestedReductionKw": 1}, "requestedReductionKw"),
        ({"shedKw": 0}, "shedKw"),
        ({"shedKw": 5000}, "shedKw"),
        ({"shedKw": 1, "durationSec": 0.5}, "durationSec"),
        ({"shedKw": 1, "durationMinutes": 1e300}, "durationMinutes"),
        ({"shedKw": None}, "shedKw"),
        ({"op": "restore", "shedKw": 1}, "shedKw"),
    ],
)
def test_send_event_rules(body: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as exc:
        _command(**body)
    assert field in _fields(exc)
