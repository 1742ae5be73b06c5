"""Events over REST against the real broker, Postgres and projector."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.settings import Settings
from dr_contracts.acks import Ack
from dr_contracts.facts import (
    AckReceived,
    Allocation,
    CommandIssued,
    EventActivated,
    TelemetryReported,
)
from dr_contracts.ids import correlation_id
from dr_contracts.telemetry import LoadReading, Telemetry
from tests.fixtures.waiting import wait_for
from tests.integration.api.conftest import count_records, write_topics

pytestmark = pytest.mark.integration


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def _event(**extra: object) -> dict[str, object]:
    return {"startTime": _at(1), "endTime": _at(2), "requestedReductionKw": 12.5} | extra


def _fresh(response: httpx.Response) -> dict[str, Any]:
    """A write answered after the read model caught up."""
    assert response.status_code in (200, 201, 202), response.text
    assert "X-Read-Model-Behind" not in response.headers
    return response.json()


async def test_scheduled_event_read_right_after_create_then_cancelled(api: httpx.AsyncClient) -> None:
    assert (await api.get("/ready")).json()["status"] == "ready"
    created = _fresh(await api.post("/api/events", json=_event()))
    event_id = created["id"]
    got = (await api.get(f"/api/events/{event_id}")).json()
    assert got["status"] == "scheduled" and got["requestedReductionKw"] == 12.5
    assert got["startTime"] == created["startTime"] and got["vens"] == []
    assert (got["currentReductionKw"], got["vensResponding"], got["avgResponseMs"]) == (0, 0, 0)
    assert [e["id"] for e in (await api.get("/api/events/")).json()] == [event_id]
    window = {"start": _at(0), "end": _at(3)}
    assert [e["id"] for e in (await api.get("/api/events/history", params=window)).json()] == [event_id]
    assert (await api.get("/api/events/history", params={"start": _at(3), "end": _at(4)})).json() == []
    assert (await api.post(f"/api/events/{event_id}/stop")).status_code == 409
    cancelled = _fresh(await api.delete(f"/api/events/{event_id}"))
    assert cancelled["status"] == "cancelled"
    assert (await api.get(f"/api/events/{event_id}")).json()["status"] == "cancelled"
    assert (await api.delete(f"/api/events/{event_id}")).status_code == 409
    assert (await api.get("/api/events", params={"status": "cancelled"})).json()[0]["id"] == event_id


async def test_active_means_start_now_and_stop_ends_it(api: httpx.AsyncClient) -> None:
    created = _fresh(
        await api.post(
            "/api/events/", json={"status": "active", "endTime": _at(1), "requestedReductionKw": 3}
        )
    )
    event_id = created["id"]
    assert created["status"] == "active"
    got = (await api.get(f"/api/events/{event_id}")).json()
    assert got["status"] == "active"
    assert datetime.fromisoformat(got["startTime"]) <= datetime.now(UTC)
    assert [e["id"] for e in (await api.get("/api/events/current")).json()] == [event_id]
    assert (await api.delete(f"/api/events/{event_id}")).status_code == 409
    stopped = await api.post(f"/api/events/{event_id}/stop")
    assert stopped.status_code == 202 and _fresh(stopped)["status"] == "stopped"
    assert (await api.get(f"/api/events/{event_id}")).json()["status"] == "stopped"
    assert (await api.post(f"/api/events/{event_id}/stop")).status_code == 409
    assert (await api.get("/api/events/current")).json() == []


_BAD_EVENTS: list[tuple[dict[str, object], str]] = [
    (_event(endTime=_at(0.5)), "endTime"),
    (_event(startTime="2031-01-01T10:00:00"), "startTime"),
    (_event(requestedReductionKw=20_000), "requestedReductionKw"),
    (_event(requestedReductionKw=0), "requestedReductionKw"),
    (_event(startTime=_at(-1)), "startTime"),
    (_event(priority="high"), "priority"),
    (_event(venIds=["ven-nobody"]), "venIds"),
    (_event(status="completed"), "status"),
    ({"endTime": _at(2)}, "requestedReductionKw"),
]


async def test_rejected_requests_write_nothing(api: httpx.AsyncClient, api_settings: Settings) -> None:
    for body, field in _BAD_EVENTS:
        response = await api.post("/api/events", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in {p["field"] for p in response.json()["detail"]}, response.text
    json_type = {"content-type": "application/json"}
    malformed = await api.post("/api/events", content=b"{not json", headers=json_type)
    assert malformed.status_code == 422
    for method, path in [
        ("GET", "/api/events/evt-00000000"),
        ("GET", "/api/events/evt-00000000/metrics"),
        ("POST", "/api/events/evt-00000000/stop"),
        ("DELETE", "/api/events/evt-00000000"),
        ("GET", "/api/events/not%20an%20id"),
    ]:
        assert (await api.request(method, path)).status_code == 404, path
    assert await count_records(api_settings, *write_topics(api_settings)) == 0


def _reading(ven_id: str, event_id: str | None, shed: float, at: datetime) -> TelemetryReported:
    reading = Telemetry(
        venId=ven_id,
        timestamp=at,
        usedPowerKw=2.0,
        shedPowerKw=shed,
        eventId=event_id,
        batterySoc=0.5,
        loads=[
            LoadReading(
                loadId="hvac",
                type="hvac",
                name="HVAC",
                capacityKw=3.5,
                currentPowerKw=1.0,
                shedCapabilityKw=1.5,
                enabled=True,
            )
        ],
    )
    return TelemetryReported(
        venId=ven_id, reading=reading, mqttTopic="volttron/metering", receivedAt=at, raw={}
    )


async def test_event_metrics_and_ven_history_from_projected_facts(
    api: httpx.AsyncClient, publish: Callable[..., Awaitable[None]]
) -> None:
    for ven in ("ven-a", "ven-b"):
        _fresh(await api.post("/api/vens", json={"name": ven.upper(), "registrationId": ven}))
    body = {"status": "active", "endTime": _at(1), "requestedReductionKw": 4, "venIds": ["ven-a", "ven-b"]}
    event_id = _fresh(await api.post("/api/events", json=body))["id"]
    targeted = (await api.get(f"/api/events/{event_id}")).json()["vens"]
    assert [(v["venId"], v["status"]) for v in targeted] == [("ven-a", "targeted"), ("ven-b", "targeted")]

    now = datetime.now(UTC).replace(microsecond=0)
    commands = {ven: correlation_id(event_id, ven, "event") for ven in ("ven-a", "ven-b")}
    ack = Ack(
        venId="ven-a",
        correlationId=commands["ven-a"],
        op="event",
        ok=True,
        status="accepted",
        ts=now,
        eventId=event_id,
        actualShedKw=1.8,
        shape="B",
    )
    await publish(
        EventActivated(
            eventId=event_id,
            activatedAt=now,
            allocations=[Allocation(venId="ven-a", shedKw=2.0), Allocation(venId="ven-b", shedKw=1.5)],
            unallocatedKw=0.5,
        ),
        *[
            CommandIssued(
                venId=ven,
                correlationId=cid,
                eventId=event_id,
                op="event",
                payload={},
                issuedAt=now,
                attempt=1,
            )
            for ven, cid in commands.items()
        ],
        AckReceived(
            venId="ven-a",
            ack=ack,
            mqttTopic="ven/ack/ven-a",
            receivedAt=now + timedelta(milliseconds=250),
            raw={},
        ),
        _reading("ven-a", event_id, 1.5, now),
        _reading("ven-b", event_id, 0.5, now),
    )

    async def detail() -> dict[str, Any] | None:
        body = (await api.get(f"/api/events/{event_id}")).json()
        return body if body["vensResponding"] == 1 and body["currentReductionKw"] == 2.0 else None

    event = await wait_for(detail, 30, message="event metrics never reflected the facts")
    assert event["avgResponseMs"] == 250.0
    assert (event["allocatedKw"], event["unallocatedKw"]) == (3.5, 0.5)
    assert {v["venId"]: (v["status"], v["shedKw"]) for v in event["vens"]} == {
        "ven-a": ("acked", 2.0),
        "ven-b": ("pending", 1.5),
    }
    assert (await api.get(f"/api/events/{event_id}/metrics")).json() == {
        "currentReductionKw": 2.0,
        "vensResponding": 1,
        "avgResponseMs": 250.0,
    }
    assert (await api.get("/api/events/current")).json()[0]["currentReductionKw"] == 2.0

    network = (await api.get("/api/stats/network")).json()
    assert network["venCount"] == 2 and network["onlineVens"] == 2
    assert network["currentLoadReductionKw"] == 2.0 and network["householdUsageKw"] == 4.0
    assert network["potentialLoadReductionKw"] == 3.0 and network["controllablePowerKw"] == 2.0
    assert (await api.get("/api/stats/loads")).json() == [
        {"type": "hvac", "totalCapacityKw": 7.0, "totalShedCapabilityKw": 3.0, "currentUsageKw": 2.0}
    ]

    ven = (await api.get("/api/vens/ven-a")).json()
    assert ven["status"] == "online" and ven["metrics"]["activeEventId"] == event_id
    assert ven["loads"] == [
        {
            "id": "hvac",
            "type": "hvac",
            "name": "HVAC",
            "capacityKw": 3.5,
            "shedCapabilityKw": 1.5,
            "currentPowerKw": 1.0,
            "enabled": True,
        }
    ]
    assert (await api.get("/api/vens/ven-a/loads")).json() == ven["loads"]
    telemetry = (await api.get("/api/vens/ven-a/telemetry", params={"limit": 10})).json()
    assert telemetry["totalCount"] == 1 and telemetry["telemetry"][0]["shedPowerKw"] == 1.5
    acks = (await api.get("/api/vens/ven-a/events")).json()
    assert acks["totalCount"] == 1
    assert acks["events"][0] | {"timestamp": None} == {
        "eventId": event_id,
        "timestamp": None,
        "op": "event",
        "status": "accepted",
        "correlationId": commands["ven-a"],
        "requestedShedKw": None,
        "actualShedKw": 1.8,
        "circuitsCurtailed": [],
    }
    circuits = (await api.get("/api/vens/ven-a/circuits/history", params={"load_id": "hvac"})).json()
    assert circuits["totalCount"] == 1 and circuits["snapshots"][0]["shedCapabilityKw"] == 1.5
    empty = await api.get("/api/vens/ven-a/telemetry", params={"start": _at(1), "end": _at(2)})
    assert empty.json() == {"totalCount": 0, "telemetry": []}
    reversed_window = {"start": _at(2), "end": _at(1)}
    assert (await api.get("/api/vens/ven-a/telemetry", params=reversed_window)).status_code == 422
