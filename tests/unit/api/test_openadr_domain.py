"""The facade's pure rules: event mapping, null dropping, scopes, client secrets and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.__main__ import main as api_main
from api.domain.errors import Invalid
from api.domain.limits import Limits
from api.openadr import event_map
from api.openadr.bodies import EventBody, drop_nulls
from api.openadr.clients import ClientRegistry, add_client, parse
from api.openadr.scopes import BL_SCOPES, VEN_SCOPES, caller, ungranted

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LIMITS = Limits(1000.0, timedelta(minutes=5))


def _one(*values: Any, period: dict[str, str] | None = None) -> dict[str, Any]:
    """`intervals` of one interval holding one DISPATCH_SETPOINT_RELATIVE payload of `values`."""
    interval: dict[str, Any] = {
        "id": 0,
        "payloads": [{"type": "DISPATCH_SETPOINT_RELATIVE", "values": list(values)}],
    }
    if period is not None:
        interval["intervalPeriod"] = period
    return {"intervals": [interval]}


def _body(**change: Any) -> EventBody:
    body = {
        "programID": "p1",
        "payloadDescriptors": [{"payloadType": "DISPATCH_SETPOINT_RELATIVE", "units": "KW"}],
        "intervalPeriod": {"start": (NOW + timedelta(hours=1)).isoformat(), "duration": "PT2H"},
        "intervals": [{"id": 0, "payloads": [{"type": "DISPATCH_SETPOINT_RELATIVE", "values": [40]}]}],
    }
    return EventBody.model_validate(body | change)


def test_one_kw_value_becomes_the_platform_event() -> None:
    fact = event_map.plan(_body(), "evt-1", NOW, LIMITS)
    assert (fact.startTime, fact.endTime) == (NOW + timedelta(hours=1), NOW + timedelta(hours=3))
    assert (fact.requestedReductionKw, fact.programId, fact.startNow) == (40.0, "p1", False)


def test_the_interval_period_wins_and_the_spec_s_zero_start_means_now() -> None:
    own = {"start": "0001-01-01T00:00:00Z", "duration": "PT30M"}
    body = _body(**_one(5, period=own))
    fact = event_map.plan(body, "evt-1", NOW, LIMITS)
    assert fact.startNow and fact.startTime == NOW and fact.endTime == NOW + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_one(1, 2), "values"),
        (_one(True), "values"),
        (_one("5"), "values"),
        (_one(-5), "values"),
        (_one(5000), "values[0]"),
        ({"duration": "PT1H"}, "duration"),
        (
            {"intervalPeriod": {"start": NOW.isoformat(), "duration": "PT1H", "randomizeStart": "PT1M"}},
            "randomizeStart",
        ),
        ({"intervalPeriod": {"start": NOW.isoformat()}}, "intervalPeriod.duration"),
        ({"intervalPeriod": {"start": NOW.isoformat(), "duration": "P30D"}}, "intervalPeriod.duration"),
        ({"payloadDescriptors": [{"payloadType": "DISPATCH_SETPOINT_RELATIVE"}]}, "payloadDescriptors"),
    ],
)
def test_what_the_platform_cannot_run_names_the_openadr_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        event_map.plan(_body(**change), "evt-1", NOW, LIMITS)
    assert any(field in p.field for p in refused.value.problems), refused.value.problems


def test_a_rest_event_is_rendered_as_openadr_would_say_it() -> None:
    row = {
        "event_id": "evt-9",
        "openadr": None,
        "ven_ids": ["a", "b"],
        "start_time": NOW,
        "end_time": NOW + timedelta(minutes=90),
        "requested_reduction_kw": 12.5,
        "created_at": NOW,
        "updated_at": NOW,
    }
    shown = event_map.render(row, shown_targets={"b"})
    assert shown["programID"] == "platform" and shown["intervalPeriod"]["duration"] == "PT1H30M"
    assert shown["targets"] == ["b"]
    assert shown["intervals"][0]["payloads"][0]["values"] == [12.5]
    assert event_map.targets_of(row) == ["a", "b"]


def test_nulls_are_dropped_at_every_depth() -> None:
    assert drop_nulls({"a": None, "b": {"c": None, "d": [1, None, {"e": None}]}}) == {"b": {"d": [1, {}]}}


def test_roles_map_onto_the_spec_s_scopes() -> None:
    bl, ven = caller("bl", "operator"), caller("v", "ven")
    assert bl.scopes == BL_SCOPES and bl.is_bl and bl.lacks("write_events") is None
    assert ven.scopes == VEN_SCOPES and not ven.is_bl
    assert ven.lacks("write_events") == "this needs the scope write_events"
    assert caller("r", "registrar").lacks("read_all", "read_targets") is not None
    assert ungranted("ven", ["read_targets", "write_events", "nonsense"]) == ["write_events", "nonsense"]


def test_secrets_are_stored_hashed_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "clients"
    secret = add_client(path, "ven-7", "ven")
    assert secret not in path.read_text() and path.stat().st_mode & 0o777 == 0o600
    registry = ClientRegistry(path)
    found = registry.authenticate("ven-7", secret)
    assert found is not None and found.role == "ven"
    assert registry.authenticate("ven-7", secret + "x") is None
    assert registry.authenticate("nobody", secret) is None
    with pytest.raises(ValueError, match="exists already"):
        add_client(path, "ven-7", "ven")
    with pytest.raises(ValueError, match="not be"):
        add_client(path, "static-token", "ven")  # the subject of static tokens
    second = add_client(path, "ven-8", "operator")  # the registry sees the file change
    assert registry.authenticate("ven-8", second) is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ven-1 ven", "line 1"),
        ("a b c", "line 1"),
        ("# x\nv!1 ven h", "line 2"),
        ("a ven h\na ven h", "twice"),
    ],
)
def test_a_malformed_clients_file_names_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_the_cli_adds_a_client_and_prints_its_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clients"
    assert api_main(["openadr-client", "--client-id", "bl-1", "--role", "operator", "--file", str(path)]) == 0
    secret = capsys.readouterr().out.strip()
    assert ClientRegistry(path).authenticate("bl-1", secret) is not None
    assert api_main(["openadr-client", "--client-id", "bl 1", "--role", "operator", "--file", str(path)]) == 2
    assert "letters, digits" in capsys.readouterr().err
