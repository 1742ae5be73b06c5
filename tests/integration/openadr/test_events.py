"""OpenADR events <-> platform events: mapping, refusals, visibility, delete = cancel or stop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.settings import Settings
from dr_contracts.facts import VenRegistered
from tests.integration.api.conftest import count_records
from tests.integration.openadr.conftest import Oadr

pytestmark = pytest.mark.integration

START = "0001-01-01T00:00:00Z"  # the spec's "now"


def _event(program_id: str, *, start: str | None = None, kw: float = 50.0, **extra: Any) -> dict[str, Any]:
    """An event as openadr3-client sends it: every optional field present, most of them null."""
    start = start or (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return {
        "programID": program_id,
        "eventName": "shed",
        "priority": None,
        "targets": None,
        "payloadDescriptors": [
            {
                "payloadType": "DISPATCH_SETPOINT_RELATIVE",
                "units": "KW",
                "currency": None,
                "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
            }
        ],
        "reportDescriptors": None,
        "intervalPeriod": {"start": start, "duration": "PT1H", "randomizeStart": None},
        "intervals": [
            {
                "id": 0,
                "intervalPeriod": None,
                "payloads": [{"type": "DISPATCH_SETPOINT_RELATIVE", "values": [kw]}],
            }
        ],
        "duration": None,
    } | extra


@pytest.fixture
async def program(bl: Oadr) -> str:
    return (await bl.ok("POST", "/programs", 201, json={"programName": "shed-program"}))["id"]


@pytest.fixture
async def fleet(bl: Oadr, publish: Callable[..., Awaitable[None]]) -> None:
    """A platform (MQTT) VEN `plat-1`, and target `site-a` granted to the OpenADR VEN of ven-1."""
    await publish(VenRegistered(venId="plat-1", name="plat-1"))
    ven = {"venName": "v1", "clientID": "ven-1", "targets": ["site-a"], "objectType": "BL_VEN_REQUEST"}
    await bl.ok("POST", "/vens", 201, json=ven)


def _operator(settings: Settings) -> dict[str, str]:
    return {"Authorization": "Bearer " + settings.token_verifier().issue("op", "operator", 300)}


async def test_an_openadr_event_is_a_platform_event(
    bl: Oadr, ven1: Oadr, ven2: Oadr, program: str, fleet: None, http: httpx.AsyncClient
) -> None:
    sent = _event(program, targets=["plat-1", "site-a"])
    created = await bl.ok("POST", "/events", 201, json=sent)
    assert created["targets"] == ["plat-1", "site-a"] and created["intervals"][0]["payloads"][0][
        "values"
    ] == [50.0]
    assert "priority" not in created and "intervalPeriod" not in created["intervals"][0]  # nulls dropped

    platform = (await http.get(f"/api/events/{created['id']}")).json()
    assert platform["status"] == "scheduled" and platform["requestedReductionKw"] == 50.0
    assert platform["venIds"] == ["plat-1"]  # only MQTT VENs get commands; ven-1 reads the event
    start = datetime.fromisoformat(sent["intervalPeriod"]["start"])
    assert datetime.fromisoformat(platform["endTime"]) - datetime.fromisoformat(
        platform["startTime"]
    ) == timedelta(hours=1)
    assert datetime.fromisoformat(platform["startTime"]) == start

    assert await bl.ok("GET", f"/events/{created['id']}") == created
    seen = await ven1.ok("GET", f"/events?programID={program}")
    assert [e["id"] for e in seen] == [created["id"]] and seen[0]["targets"] == ["site-a"]  # others hidden
    assert await ven2.ok("GET", "/events") == []  # no VEN object: untargeted events only
    assert await ven1.ok("GET", "/events?targets=plat-1") == []  # another's target: not probed
    assert (await ven2.call("GET", f"/events/{created['id']}")).status_code == 404


async def test_a_rest_event_shows_under_the_default_program(
    bl: Oadr, ven2: Oadr, http: httpx.AsyncClient, oadr_settings: Settings, fleet: None
) -> None:
    now = datetime.now(UTC)
    start, end = now + timedelta(hours=1), now + timedelta(hours=3)
    body = {"startTime": start.isoformat(), "endTime": end.isoformat(), "requestedReductionKw": 25}
    targeted = await http.post(
        "/api/events", json=body | {"venIds": ["plat-1"]}, headers=_operator(oadr_settings)
    )
    rest = await http.post("/api/events", json=body, headers=_operator(oadr_settings))
    assert rest.status_code == 201 and targeted.status_code == 201, rest.text
    [by_target] = await bl.ok("GET", "/events?targets=plat-1")
    assert by_target["id"] == targeted.json()["id"] and by_target["targets"] == ["plat-1"]
    shown = await bl.ok("GET", "/events?programID=platform")
    assert [e["id"] for e in shown] == [rest.json()["id"], targeted.json()["id"]]  # newest first
    shown = [e for e in shown if e["id"] == rest.json()["id"]]
    assert shown[0]["intervalPeriod"]["duration"] == "PT2H"
    assert shown[0]["intervals"] == [
        {"id": 0, "payloads": [{"type": "DISPATCH_SETPOINT_RELATIVE", "values": [25.0]}]}
    ]
    assert "targets" not in shown[0]  # every online VEN
    assert [e["id"] for e in await ven2.ok("GET", "/events")] == [rest.json()["id"]]  # not plat-1's


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"intervals": _event("p")["intervals"] * 2}, "intervals"),
        (
            {"intervals": [{"id": 0, "payloads": [{"type": "PRICE", "values": [0.3]}]}]},
            "intervals[0].payloads",
        ),
        (
            {"intervalPeriod": {"start": START, "duration": "PT1H", "randomizeStart": "PT5M"}},
            "intervalPeriod.randomizeStart",
        ),
        (
            {"payloadDescriptors": [{"payloadType": "DISPATCH_SETPOINT_RELATIVE", "units": "KWH"}]},
            "payloadDescriptors",
        ),
        ({"payloadDescriptors": None}, "payloadDescriptors"),
        (
            {"intervals": [{"id": 0, "payloads": [{"type": "DISPATCH_SETPOINT_RELATIVE", "values": [0]}]}]},
            "intervals[0].payloads[0].values",
        ),
        ({"intervalPeriod": None}, "intervalPeriod"),
        ({"intervalPeriod": {"start": "2020-01-01T00:00:00Z", "duration": "PT1H"}}, "intervalPeriod.start"),
        ({"intervalPeriod": {"start": START, "duration": "PT0S"}}, "intervalPeriod.duration"),
        ({"targets": ["nobody"]}, "targets"),
        ({"programID": "no-such-program"}, "programID"),
        ({"priority": -1}, "priority"),
    ],
)
async def test_what_cannot_be_mapped_is_refused_whole(
    bl: Oadr, program: str, fleet: None, oadr_settings: Settings, change: dict[str, Any], field: str
) -> None:
    response = await bl.call("POST", "/events", json=_event(program) | change)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert await count_records(oadr_settings, oadr_settings.topics.dr_events) == 0


async def test_delete_cancels_a_scheduled_event_and_stops_an_active_one(
    bl: Oadr, program: str, http: httpx.AsyncClient
) -> None:
    scheduled = await bl.ok("POST", "/events", 201, json=_event(program))
    now = await bl.ok("POST", "/events", 201, json=_event(program, start=START))
    for event, status in ((scheduled, "cancelled"), (now, "stopped")):
        assert await bl.ok("DELETE", f"/events/{event['id']}") == event
        assert (await http.get(f"/api/events/{event['id']}")).json()["status"] == status
        assert (await bl.call("GET", f"/events/{event['id']}")).status_code == 404
        assert (await bl.call("DELETE", f"/events/{event['id']}")).status_code == 404
    assert await bl.ok("GET", "/events") == []


async def test_a_ven_cannot_create_or_delete_events(ven1: Oadr, bl: Oadr, program: str) -> None:
    created = await bl.ok("POST", "/events", 201, json=_event(program))
    assert (await ven1.call("POST", "/events", json=_event(program))).status_code == 403
    assert (await ven1.call("DELETE", f"/events/{created['id']}")).status_code == 403


async def test_put_renames_an_event_but_cannot_change_what_it_runs(
    bl: Oadr, ven1: Oadr, program: str, http: httpx.AsyncClient
) -> None:
    sent = _event(program)
    created = await bl.ok("POST", "/events", 201, json=sent)
    renamed = await bl.ok(
        "PUT", f"/events/{created['id']}", json=sent | {"eventName": "evening peak", "priority": 2}
    )
    assert (renamed["eventName"], renamed["priority"]) == ("evening peak", 2)
    assert renamed["createdDateTime"] == created["createdDateTime"]
    assert await bl.ok("GET", f"/events/{created['id']}") == renamed
    assert (await http.get(f"/api/events/{created['id']}")).json()["requestedReductionKw"] == 50.0

    more = _event(program, start=sent["intervalPeriod"]["start"], kw=60.0)
    refused = await bl.call("PUT", f"/events/{created['id']}", json=more)
    assert refused.status_code == 409 and "DELETE it" in refused.json()["detail"]
    assert (await ven1.call("PUT", f"/events/{created['id']}", json=sent)).status_code == 403
