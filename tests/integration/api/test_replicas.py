"""Two API replicas over the same Kafka and Postgres behave as one."""

from __future__ import annotations

import asyncio

import pytest

from api.settings import Settings
from tests.integration.api.conftest import api_client
from tests.integration.api.test_events import _event, _fresh

pytestmark = pytest.mark.integration

TOKEN = {"Authorization": "Bearer t0ken"}


async def test_two_replicas_behave_as_one(api_settings: Settings, projector: None) -> None:
    settings = api_settings.model_copy(update={"api_tokens": "t0ken"})
    async with api_client(settings) as a, api_client(settings) as b:
        assert (await a.post("/api/events", json=_event())).status_code == 401
        event_id = _fresh(await a.post("/api/events", json=_event(), headers=TOKEN))["id"]
        assert (await b.get(f"/api/events/{event_id}")).json()["status"] == "scheduled"
        _fresh(await b.delete(f"/api/events/{event_id}", headers=TOKEN))
        assert (await a.get(f"/api/events/{event_id}")).json()["status"] == "cancelled"
        assert (await a.delete(f"/api/events/{event_id}", headers=TOKEN)).status_code == 409

        ven = {"name": "Shared", "registrationId": "ven-shared"}
        _fresh(await b.post("/api/vens", json=ven, headers=TOKEN))
        assert (await a.post("/api/vens", json=ven, headers=TOKEN)).status_code == 409
        _fresh(await a.patch("/api/vens/ven-shared", json={"name": "Renamed"}, headers=TOKEN))
        assert (await b.get("/api/vens/ven-shared")).json()["name"] == "Renamed"
        responses = [await client.get("/api/vens") for client in (a, b)]
        assert responses[0].json() == responses[1].json()

        # Both replicas write at once; each answers once its write is readable on either one.
        created = await asyncio.gather(*(c.post("/api/events", json=_event(), headers=TOKEN) for c in (a, b)))
        ids = {_fresh(response)["id"] for response in created}
        assert len(ids) == 2
        for client in (a, b):
            listed = {e["id"] for e in (await client.get("/api/events")).json()}
            assert ids <= listed, (ids, listed)
