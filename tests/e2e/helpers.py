"""What the e2e tests ask of the platform, through its REST API (and the simulator's status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.fixtures.waiting import wait_for


async def online_vens(api: httpx.AsyncClient, count: int) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        stats = (await api.get("/api/stats/network")).json()
        return stats if stats["onlineVens"] >= count and stats["potentialLoadReductionKw"] > 0 else None

    return await wait_for(ready, timeout=60, message=f"{count} VENs online with shed capability")


def event_body(lead_s: float, duration_s: float, kw: float) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(seconds=lead_s)
    return {
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(seconds=duration_s)).isoformat(),
        "requestedReductionKw": round(kw, 2),
    }


async def event_reaches(
    api: httpx.AsyncClient, event_id: str, status: str, deadline_s: float = 60
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        event = (await api.get(f"/api/events/{event_id}")).json()
        return event if event["status"] == status else None

    return await wait_for(reached, timeout=deadline_s, message=f"event {event_id} {status}")


async def all_responding(api: httpx.AsyncClient, event_id: str, count: int) -> dict[str, Any]:
    async def responding() -> dict[str, Any] | None:
        event = (await api.get(f"/api/events/{event_id}")).json()
        return event if event["vensResponding"] == count else None

    return await wait_for(responding, timeout=60, message=f"{count} VENs responding to {event_id}")


async def sim_status(sim_url: str, path: str = "/status") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sim_url, timeout=10) as client:
        return (await client.get(path)).json()
