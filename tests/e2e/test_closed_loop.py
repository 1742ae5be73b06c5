"""The whole platform as processes: REST in, MQTT to VENs, acks and telemetry back, REST out."""

from __future__ import annotations

import pytest

from tests.fixtures.waiting import wait_for

from .helpers import all_responding, event_body, event_reaches, online_vens, sim_status

pytestmark = pytest.mark.e2e
VENS = 6


async def test_event_lifecycle_through_rest_only(platform_factory, api_for) -> None:
    platform = platform_factory(VENS, ["--ack-shape", "mix"])
    api = api_for(platform)
    stats = await online_vens(api, VENS)
    requested = 0.5 * stats["potentialLoadReductionKw"]

    created = await api.post("/api/events", json=event_body(lead_s=3, duration_s=30, kw=requested))
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]

    event = await all_responding(api, event_id, VENS)
    assert event["status"] == "active"
    assert {v["status"] for v in event["vens"]} == {"acked"}

    async def delivering() -> dict | None:
        e = (await api.get(f"/api/events/{event_id}")).json()
        return e if abs(e["currentReductionKw"] - requested) <= 0.1 * requested else None

    await wait_for(delivering, timeout=25, message="telemetry shows the requested reduction within 10%")

    async def every_ven_in_the_event() -> bool:
        vens = (await api.get("/api/vens")).json()
        return all(v["metrics"]["activeEventId"] == event_id for v in vens)

    await wait_for(every_ven_in_the_event, timeout=20, message="every VEN reports the event as active")

    done = await event_reaches(api, event_id, "completed")
    assert done["vensResponding"] == VENS

    async def restored() -> bool:
        vens = (await api.get("/api/vens")).json()
        return all(v["metrics"]["activeEventId"] is None for v in vens)

    await wait_for(restored, timeout=30, message="every VEN restored (no active event in telemetry)")
    applied = await sim_status(platform.sim_url, "/status/applied")
    restores = [cid for cid in applied if cid.endswith("-restore")]
    assert len(restores) == VENS and set(applied.values()) == {1}


async def test_old_client_payloads_and_every_ack_shape(platform_factory, api_for, pg_db: str) -> None:
    import psycopg

    platform = platform_factory(VENS, ["--ack-shape", "mix"])
    api = api_for(platform)
    stats = await online_vens(api, VENS)
    body = event_body(lead_s=0, duration_s=20, kw=0.4 * stats["potentialLoadReductionKw"]) | {
        "status": "active"
    }
    created = await api.post("/api/events/", json=body)  # old clients: trailing slash, "active" = now
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    await all_responding(api, event_id, VENS)

    with psycopg.connect(pg_db) as db:
        shapes = {row[0] for row in db.execute("SELECT DISTINCT shape FROM ven_acks")}
    assert shapes == {"A", "B", "C"}

    stopped = await api.post(f"/api/events/{event_id}/stop")
    assert stopped.status_code == 202, stopped.text
    await event_reaches(api, event_id, "stopped")
