"""The rules at the read model's boundaries, pinned against real Postgres, projector and API.

VEN rows are written straight into `vens` (as the projector would from telemetry): the
tests are about where a rule cuts, which needs readings of an exact age, not about how
readings get there. Events go through the real path (REST, or facts through the projector).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from api.settings import Settings
from dispatcher.adapters.vens import PostgresVenDirectory
from dr_contracts.facts import EventCreated, EventStopRequested
from dr_contracts.ids import new_event_id
from tests.fixtures.waiting import wait_for
from tests.integration.api.conftest import api_client
from tests.integration.api.test_events import _fresh

pytestmark = pytest.mark.integration

#: Report interval of the seeded VENs; "just" inside/outside = this margin off the cut-off.
INTERVAL_S = 600.0
MARGIN_S = 60.0


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _put_ven(
    dsn: str, ven_id: str, age_s: float, shed_kw: float = 0.0, event_id: str | None = None
) -> None:
    """A VEN whose last reading is `age_s` old, shedding `shed_kw` for `event_id`."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO vens (ven_id, name, source, created_at, last_seen, report_interval_s,"
            " current_power_kw, shed_power_kw, shed_availability_kw, active_event_id)"
            " VALUES (%s, %s, 'telemetry', now(), now() - make_interval(secs => %s), %s, 1, %s, 1, %s)",
            (ven_id, ven_id, age_s, INTERVAL_S, shed_kw, event_id),
        )


def _ages(missed_intervals: float) -> tuple[float, float]:
    """Reading ages just inside and just outside the online window."""
    cut = missed_intervals * INTERVAL_S
    return cut - MARGIN_S, cut + MARGIN_S


async def _statuses(api: httpx.AsyncClient) -> dict[str, str]:
    return {v["id"]: v["status"] for v in (await api.get("/api/vens")).json()}


async def test_online_cut_off_at_three_missed_intervals(api: httpx.AsyncClient, pg_db: str) -> None:
    """docs/contract.md: a VEN is offline after 3 missed reports (the default setting)."""
    inside, outside = _id("ven-in"), _id("ven-out")
    age_in, age_out = _ages(3)
    await _put_ven(pg_db, inside, age_in)
    await _put_ven(pg_db, outside, age_out)
    assert await _statuses(api) == {inside: "online", outside: "offline"}
    assert (await api.get(f"/api/vens/{inside}")).json()["status"] == "online"
    network = (await api.get("/api/stats/network")).json()
    assert (network["venCount"], network["onlineVens"], network["householdUsageKw"]) == (2, 1, 1)


async def test_api_and_dispatcher_share_the_online_setting(
    api_settings: Settings, projector: None, pg_db: str
) -> None:
    """One setting moves the cut-off for both: the dispatcher commands exactly the VENs shown online."""
    settings = api_settings.model_copy(update={"ven_online_missed_intervals": 5})
    inside, outside = _id("ven-in"), _id("ven-out")
    age_in, age_out = _ages(5)
    await _put_ven(pg_db, inside, age_in)
    await _put_ven(pg_db, outside, age_out)
    async with api_client(settings) as api:
        assert await _statuses(api) == {inside: "online", outside: "offline"}
        assert (await api.get("/api/stats/network")).json()["onlineVens"] == 1
    directory = PostgresVenDirectory(pg_db, settings.ven_online_missed_intervals)
    await directory.start()
    try:
        found, _ = await directory.candidates(None)
    finally:
        await directory.stop()
    assert [c.ven_id for c in found] == [inside]


async def test_offline_vens_do_not_count_in_current_reduction(api: httpx.AsyncClient, pg_db: str) -> None:
    """Only online, not deleted VENs taking part count: one of each kind sheds a different amount."""
    online, offline, deleted = _id("ven-on"), _id("ven-off"), _id("ven-del")
    await _put_ven(pg_db, online, 0)
    await _put_ven(pg_db, offline, _ages(3)[1])
    await _put_ven(pg_db, deleted, 0)
    event = _fresh(
        await api.post(
            "/api/events",
            json={
                "status": "active",
                "endTime": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "requestedReductionKw": 10,
                "venIds": [online, offline, deleted],
            },
        )
    )
    async with await psycopg.AsyncConnection.connect(pg_db, autocommit=True) as conn:
        await conn.execute(
            "UPDATE vens SET active_event_id = %s, shed_power_kw = CASE ven_id WHEN %s THEN 2 ELSE 5 END",
            (event["id"], online),
        )
        await conn.execute("UPDATE vens SET deleted_at = now() WHERE ven_id = %s", (deleted,))
    detail = (await api.get(f"/api/events/{event['id']}")).json()
    assert (detail["status"], detail["currentReductionKw"]) == ("active", 2)
    assert [e["currentReductionKw"] for e in (await api.get("/api/events/current")).json()] == [2]
    assert (await api.get("/api/stats/network")).json()["currentLoadReductionKw"] == 2


async def test_history_finds_a_long_event_that_started_days_before_the_window(
    api: httpx.AsyncClient, publish: Callable[..., Awaitable[None]]
) -> None:
    """The history query bounds start_time by the longest event (7 days) to use its index."""
    now = datetime.now(UTC)
    window_start = now - timedelta(hours=1)
    long_id, over_id = new_event_id(), new_event_id()
    started = window_start - timedelta(days=6.8)
    await publish(
        EventCreated(
            eventId=long_id, startTime=started, endTime=started + timedelta(days=6.9), requestedReductionKw=1
        ),
        EventCreated(  # as long, but over before the window opens
            eventId=over_id,
            startTime=started - timedelta(hours=3),
            endTime=started + timedelta(days=6.9, hours=-3),
            requestedReductionKw=1,
        ),
    )

    async def projected() -> bool:
        return all([(await api.get(f"/api/events/{e}")).status_code == 200 for e in (long_id, over_id)])

    await wait_for(projected, 30, message="the projector never stored the events")
    window = {"start": window_start.isoformat(), "end": now.isoformat()}
    assert [e["id"] for e in (await api.get("/api/events/history", params=window)).json()] == [long_id]


async def test_a_deleted_ven_cannot_be_targeted(api: httpx.AsyncClient) -> None:
    live, gone = _id("site"), _id("site")
    for ven_id in (live, gone):
        _fresh(await api.post("/api/vens", json={"name": ven_id, "registrationId": ven_id}))
    _fresh(await api.delete(f"/api/vens/{gone}"))
    event = {
        "status": "active",
        "requestedReductionKw": 1,
        "endTime": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    refused = await api.post("/api/events", json=event | {"venIds": [live, gone]})
    assert refused.status_code == 422, refused.text
    assert [(p["field"], p["code"]) for p in refused.json()["detail"]] == [("venIds", "unknown_ven")]
    reason = refused.json()["detail"][0]["reason"]
    assert gone in reason and live not in reason
    _fresh(await api.post("/api/events", json=event | {"venIds": [live]}))


async def test_shown_status_before_the_dispatcher_acts(
    api: httpx.AsyncClient, publish: Callable[..., Awaitable[None]]
) -> None:
    """No dispatcher runs: created with startNow shows active, a stop before activation stopped."""
    start, end = datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC) + timedelta(hours=2)
    plain, now, stopped = new_event_id(), new_event_id(), new_event_id()
    await publish(
        *(
            EventCreated(eventId=e, startTime=start, endTime=end, requestedReductionKw=1, startNow=e == now)
            for e in (plain, now, stopped)
        ),
        EventStopRequested(eventId=stopped),
    )

    expected = {plain: "scheduled", now: "active", stopped: "stopped"}

    async def shown_as_expected() -> bool:
        return {e["id"]: e["status"] for e in (await api.get("/api/events")).json()} == expected

    await wait_for(shown_as_expected, 30, message="the events never showed the expected statuses")
    for event_id, status in expected.items():
        listed = (await api.get("/api/events", params={"status": status})).json()
        assert [e["id"] for e in listed] == [event_id]
    assert [e["id"] for e in (await api.get("/api/events/current")).json()] == [now]


async def test_freshness_is_the_newest_live_reading_and_the_projectors_last_write(
    api: httpx.AsyncClient, pg_db: str
) -> None:
    """What a "read model behind" banner compares with `now`; a deleted VEN's reading does not count."""

    async def freshness() -> dict[str, datetime | None]:
        body = (await api.get("/api/stats/freshness")).json()
        return {key: value and datetime.fromisoformat(value) for key, value in body.items()}

    assert (await freshness())["newestReadingAt"] is None
    older, newer, deleted = _id("ven-old"), _id("ven-new"), _id("ven-del")
    await _put_ven(pg_db, older, 600)
    await _put_ven(pg_db, newer, 60)
    await _put_ven(pg_db, deleted, 0)
    # a write, so that the projector stores an offset
    _fresh(await api.post("/api/vens", json={"name": "Site", "registrationId": _id("site")}))
    async with await psycopg.AsyncConnection.connect(pg_db, autocommit=True) as conn:
        await conn.execute("UPDATE vens SET deleted_at = now() WHERE ven_id = %s", (deleted,))
        cur = await conn.execute(
            "SELECT (SELECT last_seen FROM vens WHERE ven_id = %s),"
            " (SELECT max(updated_at) FROM projection_offsets)",
            (newer,),
        )
        newest, projected = await cur.fetchone() or (None, None)
    fresh = await freshness()
    assert (fresh["newestReadingAt"], fresh["projectedAt"]) == (newest, projected)
    assert fresh["now"] is not None and projected is not None and fresh["now"] >= projected
