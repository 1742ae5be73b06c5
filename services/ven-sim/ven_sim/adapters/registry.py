"""`--register`: create every VEN through the REST API (`POST /api/vens`) before it reports.

Bounded concurrency; 409 (already registered) counts as done; transport errors and 5xx are
retried a few times; anything else is logged with the API's reason and counted as failed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import structlog

from ven_sim.seeded import unit_hash

log = structlog.get_logger()

ATTEMPTS = 3
RETRY_BASE_S = 0.5
#: Simulated sites are spread over this box (the San Francisco Bay Area).
LAT, LON = (37.2, 38.0), (-122.6, -121.7)


def registration_body(ven_id: str, seed: int) -> dict[str, Any]:
    """The body of `POST /api/vens`: the venId travels as `registrationId`."""
    lat = LAT[0] + (LAT[1] - LAT[0]) * unit_hash(seed, "lat", ven_id)
    lon = LON[0] + (LON[1] - LON[0]) * unit_hash(seed, "lon", ven_id)
    return {
        "name": f"Simulated site {ven_id}",
        "location": {"lat": round(lat, 5), "lon": round(lon, 5)},
        "registrationId": ven_id,
    }


async def register_vens(
    api_url: str,
    ven_ids: list[str],
    *,
    seed: int,
    token: str | None = None,
    concurrency: int = 20,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[int, int]:
    """Register every VEN; returns (registered or already there, failed)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=10, transport=transport) as http:

        async def one(ven_id: str) -> bool:
            async with limit:
                return await _register(http, ven_id, registration_body(ven_id, seed))

        results = await asyncio.gather(*(one(ven_id) for ven_id in ven_ids))
    done = sum(results)
    log.info("vens.registered", registered=done, failed=len(results) - done, api_url=api_url)
    return done, len(results) - done


async def _register(http: httpx.AsyncClient, ven_id: str, body: dict[str, Any]) -> bool:
    for attempt in range(ATTEMPTS):
        try:
            response = await http.post("/api/vens", json=body)
        except httpx.TransportError as err:
            reason = f"{type(err).__name__}: {err}"
        else:
            if response.status_code in (200, 201, 409):
                return True
            reason = f"{response.status_code}: {response.text[:300]}"
            if response.status_code < 500:
                break
        if attempt + 1 < ATTEMPTS:
            await asyncio.sleep(RETRY_BASE_S * 2**attempt)
    log.warning("ven.registration_failed", ven_id=ven_id, reason=reason)
    return False
