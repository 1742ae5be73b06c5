"""VENs over REST against the real broker, Postgres and projector."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from api.settings import Settings
from tests.fixtures.waiting import wait_for
from tests.integration.api.conftest import count_records, write_topics
from tests.integration.api.test_events import _fresh, _reading

pytestmark = pytest.mark.integration


async def test_ven_lifecycle(api: httpx.AsyncClient, api_settings: Settings) -> None:
    body = {"name": "Depot", "location": {"lat": 45.5, "lon": -122.6}, "registrationId": "site-42"}
    created = _fresh(await api.post("/api/vens/", json=body))
    assert created["id"] == "site-42" and created["status"] == "offline"
    got = (await api.get("/api/vens/site-42")).json()
    assert (got["name"], got["location"], got["loads"]) == ("Depot", {"lat": 45.5, "lon": -122.6}, [])
    assert [v["id"] for v in (await api.get("/api/vens/")).json()] == ["site-42"]
    assert (await api.post("/api/vens", json=body)).status_code == 409

    patched = _fresh(await api.patch("/api/vens/site-42", json={"name": "Depot 2", "status": "maintenance"}))
    assert (patched["name"], patched["status"]) == ("Depot 2", "maintenance")
    assert (await api.patch("/api/vens/site-42", json={})).status_code == 422
    assert (await api.patch("/api/vens/site-42", json={"registrationId": "x"})).status_code == 422
    assert (await api.patch("/api/vens/nobody", json={"name": "n"})).status_code == 404

    command = {"requestedReductionKw": 2, "durationMinutes": 5}
    sent = await api.post("/api/vens/site-42/send-event", json=command)
    assert sent.status_code == 202 and sent.json()["correlationId"].startswith("cmd-site-42-")
    assert (await api.post("/api/vens/site-42/send-event", json={"shedKw": -1})).status_code == 422
    assert (await api.post("/api/vens/nobody/send-event", json={"shedKw": 1})).status_code == 404

    assert _fresh(await api.delete("/api/vens/site-42")) == {"id": "site-42", "deleted": True}
    for path in (
        "/api/vens/site-42",
        "/api/vens/site-42/loads",
        "/api/vens/site-42/telemetry",
        "/api/vens/site-42/events",
        "/api/vens/site-42/circuits/history",
    ):
        assert (await api.get(path)).status_code == 404, path
    assert (await api.delete("/api/vens/site-42")).status_code == 404
    assert (await api.get("/api/vens")).json() == []
    assert _fresh(await api.post("/api/vens", json=body))["id"] == "site-42"  # registered again
    # register, update, command, delete, register again: one fact each, nothing for refusals
    assert await count_records(api_settings, *write_topics(api_settings)) == 5


async def test_generated_ids_and_validation(api: httpx.AsyncClient) -> None:
    ven_id = _fresh(await api.post("/api/vens", json={"name": "Anon"}))["id"]
    assert ven_id.startswith("ven-") and len(ven_id) == 12
    assert (await api.get(f"/api/vens/{ven_id}")).json()["name"] == "Anon"
    bad = await api.post(
        "/api/vens",
        json={"name": "", "location": {"lat": 91, "lon": 0}, "registrationId": "has space", "colour": "red"},
    )
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["detail"]} == {"name", "location.lat", "registrationId", "colour"}


async def test_ven_known_from_telemetry_can_be_registered(
    api: httpx.AsyncClient, publish: Callable[..., Awaitable[None]]
) -> None:
    await publish(_reading("meter-7", None, 0.0, datetime.now(UTC)))

    async def seen() -> bool:
        return (await api.get("/api/vens/meter-7")).status_code == 200

    await wait_for(seen, 30, message="telemetry never registered the VEN")
    assert (await api.get("/api/vens/meter-7")).json()["status"] == "online"
    _fresh(await api.post("/api/vens", json={"name": "Meter seven", "registrationId": "meter-7"}))
    ven = (await api.get("/api/vens/meter-7")).json()
    assert (ven["name"], ven["status"], len(ven["loads"])) == ("Meter seven", "online", 1)
    again = await api.post("/api/vens", json={"name": "again", "registrationId": "meter-7"})
    assert again.status_code == 409


async def test_lists_are_paginated(api: httpx.AsyncClient) -> None:
    for n in range(3):
        _fresh(await api.post("/api/vens", json={"name": f"Site {n}", "registrationId": f"ven-{n}"}))
    first = await api.get("/api/vens", params={"limit": 2})
    assert [v["id"] for v in first.json()] == ["ven-0", "ven-1"]
    assert first.headers["X-Next-Offset"] == "2"
    rest = await api.get("/api/vens", params={"limit": 2, "offset": first.headers["X-Next-Offset"]})
    assert [v["id"] for v in rest.json()] == ["ven-2"] and "X-Next-Offset" not in rest.headers
    assert len((await api.get("/api/vens", params={"limit": 10**9})).json()) == 3  # capped, not refused
    for bad in ({"limit": 0}, {"offset": -1}, {"limit": "many"}):
        response = await api.get("/api/vens", params=bad)
        assert response.status_code == 422 and response.json()["detail"][0]["field"] in bad


async def test_the_list_filters_by_shown_status_and_by_text(api: httpx.AsyncClient) -> None:
    for ven_id, name in [
        ("ven-a", "North Depot"),
        ("ven-b", "South Depot"),
        ("ven-c", "Office"),
        ("ven-d", "Warehouse north"),
    ]:
        _fresh(await api.post("/api/vens", json={"name": name, "registrationId": ven_id}))
    _fresh(await api.patch("/api/vens/ven-c", json={"status": "maintenance"}))

    async def listed(**params: str) -> list[str]:
        response = await api.get("/api/vens", params=params)
        assert response.status_code == 200, response.text
        return [v["id"] for v in response.json()]

    assert await listed(status="offline") == ["ven-a", "ven-b", "ven-d"]  # no reading yet
    assert await listed(status="maintenance") == ["ven-c"]
    assert await listed(status="online") == []
    assert await listed(q="NORTH") == ["ven-a", "ven-d"]  # name, any case
    assert await listed(q="ven-b") == ["ven-b"]  # venId
    assert await listed(q="depot", status="offline", limit="1") == ["ven-a"]
    assert await listed(q="north", status="maintenance") == []
    for bad in ({"status": "asleep"}, {"q": "x" * 101}):
        response = await api.get("/api/vens", params=bad)
        assert response.status_code == 422 and response.json()["detail"][0]["field"] in bad
