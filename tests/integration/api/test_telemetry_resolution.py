"""`GET /api/vens/{id}/telemetry` answers long windows from the rollups, and says which resolution."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.fixtures.waiting import wait_for
from tests.integration.api.test_events import _reading

#: A quarter-hour boundary, well past the raw and 1-minute horizons (2023).
T0 = datetime(2023, 11, 14, 22, 0, tzinfo=UTC)


async def series(api: httpx.AsyncClient, **params: Any) -> tuple[str, dict[str, Any]]:
    answer = await api.get("/api/vens/ven-r/telemetry", params=params)
    assert answer.status_code == 200, answer.text
    return answer.headers["X-Resolution"], answer.json()


async def test_each_resolution_and_the_automatic_choice(
    api: httpx.AsyncClient, publish: Callable[..., Awaitable[None]]
) -> None:
    # Six readings 20 s apart over two minutes (shed 0.5, 1.0, ...), and one just now.
    now = datetime.now(UTC).replace(microsecond=0)
    await publish(*(_reading("ven-r", None, 0.5 * (i + 1), T0 + timedelta(seconds=20 * i)) for i in range(6)))
    await publish(_reading("ven-r", None, 1.0, now - timedelta(minutes=1)))
    old = {"start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat()}

    async def rolled_up() -> bool:
        answer = await api.get("/api/vens/ven-r/telemetry", params=old)
        return answer.status_code == 200 and answer.json()["totalCount"] == 1  # 404 until projected

    await wait_for(rolled_up, 30, message="the readings never reached the 15-minute rollup")

    # An hour three years ago: the raw readings are past retention, so `auto` takes quarters.
    used, body = await series(api, **old)
    assert used == "15m"
    assert body["telemetry"] == [
        {
            "timestamp": "2023-11-14T22:00:00Z",
            "usedPowerKw": 2.0,
            "shedPowerKw": 1.75,
            "requestedReductionKw": None,
            "eventId": None,
            "batterySoc": None,
            "samples": 6,
            "usedPowerKwMin": 2.0,
            "usedPowerKwMax": 2.0,
            "shedPowerKwMin": 0.5,
            "shedPowerKwMax": 3.0,
            "baselinePowerKw": None,
        }
    ]
    used, body = await series(api, **old, resolution="1m")
    assert used == "1m"
    assert [(p["timestamp"], p["samples"], p["shedPowerKw"]) for p in body["telemetry"]] == [
        ("2023-11-14T22:01:00Z", 3, 2.5),
        ("2023-11-14T22:00:00Z", 3, 1.0),
    ]
    used, body = await series(api, **old, resolution="raw", limit=2)
    assert used == "raw" and body["totalCount"] == 6
    assert [p["shedPowerKw"] for p in body["telemetry"]] == [3.0, 2.5]
    assert "samples" not in body["telemetry"][0]  # raw readings keep their shape

    # The default window (the last 24 h) is raw; a recent week takes minutes.
    assert (await series(api))[0] == "raw"
    week = {"start": (now - timedelta(days=6)).isoformat()}
    used, body = await series(api, **week)
    assert used == "1m" and body["totalCount"] == 1
    unknown = await api.get("/api/vens/ven-r/telemetry", params={"resolution": "5m"})
    assert unknown.status_code == 422
