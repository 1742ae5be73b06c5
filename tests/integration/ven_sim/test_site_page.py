"""The site's local page on the status server: one VEN's HTML page and the state it polls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dr_contracts.commands import event_command
from dr_infra import free_port
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer
from ven_sim.bootstrap import running_simulator
from ven_sim.settings import Settings

pytestmark = pytest.mark.integration

VEN = "ven-001"
HTML = "text/html; charset=utf-8"


async def test_site_page_follows_an_event(observer: Observer, sim_settings: Callable[..., Settings]) -> None:
    port = free_port()
    async with running_simulator(sim_settings(vens=2, status_port=port)) as sim:
        names = [c.name for c in sim.vens[VEN].panel.circuits]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            page = await http.get(f"/site/{VEN}")
            assert page.status_code == 200 and page.headers["content-type"] == HTML
            assert f"<h1>{VEN}</h1>" in page.text and all(name in page.text for name in names)

            before = (await http.get(f"/site/{VEN}/state")).json()
            assert before["venId"] == VEN and before["online"] is True and before["event"] is None
            assert [c["name"] for c in before["circuits"]] == names
            assert not any(c["curtailed"] for c in before["circuits"]) and before["shedKw"] == 0.0

            start = datetime.now(UTC)
            end = start + timedelta(minutes=15)
            command = event_command(
                ven_id=VEN, event_id="evt-site", correlation_id="site-1", shed_kw=50.0, start=start, end=end
            )
            await observer.send(VEN, command)
            acks = await wait_for(lambda: observer.ack_for(VEN, "site-1"), timeout=20, message="the ack")

            async def curtailed() -> dict[str, Any] | None:
                state: dict[str, Any] = (await http.get(f"/site/{VEN}/state")).json()
                lower = [c for c in state["circuits"] if c["powerNowKw"] < c["powerBeforeKw"]]
                return state if state["event"] is not None and any(c["curtailed"] for c in lower) else None

            during = await wait_for(curtailed, timeout=20, message="a curtailed circuit on the page")
            event = during["event"]
            assert event["eventId"] == "evt-site" and event["requestedShedKw"] == 50.0
            assert event["actualShedKw"] == acks[0].actualShedKw > 0  # what the VEN acked
            ends, now = datetime.fromisoformat(event["endsAt"]), datetime.fromisoformat(during["serverTime"])
            assert abs(ends - end) <= timedelta(seconds=1) and ends > now
            shed_ids = {c["loadId"] for c in during["circuits"] if c["curtailed"]}
            assert shed_ids == {c.loadId for c in acks[0].circuitsCurtailed}
            assert during["shedKw"] > 0 and during["totalPowerKw"] < during["baselineKw"]

            missing = await http.get("/site/ven-999")
            assert missing.status_code == 404 and missing.headers["content-type"] == HTML
            missing_state = await http.get("/site/ven-999/state")
            assert missing_state.status_code == 404 and missing_state.json() == {
                "error": "no simulated VEN 'ven-999'"
            }

            index = await http.get("/site")
            assert index.status_code == 200 and index.headers["content-type"] == HTML
            assert all(f'href="/site/{ven_id}"' in index.text for ven_id in sim.vens)
            assert (await http.get("/sites")).status_code == 404  # a prefix owns whole segments only
            assert (await http.post(f"/site/{VEN}")).status_code == 405
            assert (await http.get("/status")).json()["vens_in_event"] == 1
