"""An event's VEN table, command counts and delivery chart against the real broker, Postgres and
projector: facts go through the projector as the dispatcher and the bridge would append them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dr_contracts.acks import Ack, CircuitCurtailed
from dr_contracts.facts import (
    AckReceived,
    Allocation,
    CommandIssued,
    CommandTimedOut,
    EventActivated,
    EventCompleted,
    EventCreated,
    FactPayload,
    TelemetryReported,
)
from dr_contracts.ids import correlation_id, new_event_id
from dr_contracts.telemetry import Telemetry
from tests.fixtures.waiting import wait_for
from tests.integration.api.test_events import _at, _fresh

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]

NAMES = {"ven-a": "Alpha", "ven-b": "Bravo", "ven-c": "Charlie", "ven-d": "Delta", "ven-e": "Echo"}
ALLOCATED = {"ven-a": 2.0, "ven-b": 1.5, "ven-c": 3.0, "ven-d": 0.5, "ven-e": 1.0}
NEWEST_CIRCUITS = [{"loadId": "hvac", "curtailedKw": 1.2}, {"loadId": "ev", "curtailedKw": 0.8}]


def _issued(event_id: str, ven: str, op: str, at: datetime, attempt: int = 1) -> CommandIssued:
    cid = correlation_id(event_id, ven, op)
    return CommandIssued(
        venId=ven, correlationId=cid, eventId=event_id, op=op, payload={}, issuedAt=at, attempt=attempt
    )


def _timed_out(event_id: str, ven: str, op: str, attempts: int) -> CommandTimedOut:
    cid = correlation_id(event_id, ven, op)
    return CommandTimedOut(venId=ven, correlationId=cid, eventId=event_id, op=op, attempts=attempts)


def _ack(event_id: str, ven: str, op: str, at: datetime, *, ok: bool = True, **fields: Any) -> AckReceived:
    ack = Ack(
        venId=ven,
        correlationId=correlation_id(event_id, ven, op),
        op=op,
        ok=ok,
        status="accepted" if ok else "rejected",
        ts=at,
        eventId=event_id,
        shape="B",
        **fields,
    )
    return AckReceived(venId=ven, ack=ack, mqttTopic=f"ven/ack/{ven}", receivedAt=at, raw={})


async def _five_ven_event(api: httpx.AsyncClient, publish: Publish) -> tuple[str, datetime]:
    """An active event of five VENs, as the dispatcher and the VENs leave it:
    - ven-a: event command sent twice, acked after 250 ms, then acked again naming more
      circuits; its restore acked;
    - ven-b: rejected after 100 ms; its restore pending;
    - ven-c: timed out after 3 attempts;
    - ven-d, ven-e: never commanded; ven-e's restore timed out after 2 attempts.
    """
    for ven, name in NAMES.items():
        _fresh(await api.post("/api/vens", json={"name": name, "registrationId": ven}))
    body = {"status": "active", "endTime": _at(1), "requestedReductionKw": 9, "venIds": list(NAMES)}
    event_id = _fresh(await api.post("/api/events", json=body))["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    later = now + timedelta(minutes=1)
    hvac = CircuitCurtailed(loadId="hvac", curtailedKw=1.0)
    facts: list[FactPayload] = [
        EventActivated(
            eventId=event_id,
            activatedAt=now,
            allocations=[Allocation(venId=v, shedKw=kw) for v, kw in ALLOCATED.items()],
        ),
        _issued(event_id, "ven-a", "event", now),
        _issued(event_id, "ven-a", "event", now + timedelta(seconds=1), attempt=2),
        _issued(event_id, "ven-b", "event", now),
        *(_issued(event_id, "ven-c", "event", now + timedelta(seconds=i), attempt=i + 1) for i in range(3)),
        _timed_out(event_id, "ven-c", "event", 3),
        _ack(
            event_id,
            "ven-a",
            "event",
            now + timedelta(milliseconds=250),
            actualShedKw=1.8,
            circuitsCurtailed=[hvac],
        ),
        _ack(
            event_id,
            "ven-a",
            "event",
            now + timedelta(seconds=2),
            actualShedKw=1.9,
            circuitsCurtailed=[CircuitCurtailed.model_validate(c) for c in NEWEST_CIRCUITS],
        ),
        _ack(event_id, "ven-b", "event", now + timedelta(milliseconds=100), ok=False),
        _issued(event_id, "ven-a", "restore", later),
        _ack(event_id, "ven-a", "restore", later + timedelta(milliseconds=50)),
        _issued(event_id, "ven-b", "restore", later),
        _issued(event_id, "ven-e", "restore", later),
        _issued(event_id, "ven-e", "restore", later + timedelta(seconds=5), attempt=2),
        _timed_out(event_id, "ven-e", "restore", 2),
    ]
    await publish(*facts)
    return event_id, now


def _row(ven: str, status: str, **fields: Any) -> dict[str, Any]:
    empty = {"actualShedKw": None, "responseMs": None, "attempts": None, "ackedAt": None}
    return {
        "venId": ven,
        "venName": NAMES[ven],
        "shedKw": ALLOCATED[ven],
        "status": status,
        **empty,
        "circuitsCurtailed": [],
        "restoreStatus": None,
        **fields,
    }


async def _acks(api: httpx.AsyncClient, event_id: str, **params: Any) -> httpx.Response:
    response = await api.get(f"/api/events/{event_id}/acks", params=params)
    assert response.status_code == 200, response.text
    return response


async def _order(api: httpx.AsyncClient, event_id: str, **params: Any) -> list[str]:
    return [row["venId"] for row in (await _acks(api, event_id, **params)).json()["acks"]]


async def test_the_ven_table_of_an_event(api: httpx.AsyncClient, publish: Publish) -> None:
    event_id, now = await _five_ven_event(api, publish)
    expected = [
        _row(
            "ven-a",
            "acked",
            actualShedKw=1.8,
            responseMs=250.0,
            attempts=2,
            ackedAt=now + timedelta(milliseconds=250),
            circuitsCurtailed=NEWEST_CIRCUITS,
            restoreStatus="acked",
        ),
        _row(
            "ven-b",
            "rejected",
            responseMs=100.0,
            attempts=1,
            ackedAt=now + timedelta(milliseconds=100),
            restoreStatus="pending",
        ),
        _row("ven-c", "timed_out", attempts=3),
        _row("ven-d", "allocated"),
        _row("ven-e", "allocated", restoreStatus="timed_out"),
    ]

    async def projected() -> bool:
        rows = (await _acks(api, event_id)).json()["acks"]
        for row in rows:
            row["ackedAt"] = row["ackedAt"] and datetime.fromisoformat(row["ackedAt"])
        return rows == expected

    await wait_for(projected, 30, message="the VEN table never showed the projected facts")
    everything = await _acks(api, event_id)
    assert everything.json()["totalCount"] == 5 and "X-Next-Offset" not in everything.headers

    for sort, order in {
        "-venId": "edcba",
        "-venName": "edcba",
        "shedKw": "debac",
        "-shedKw": "cabed",
        "responseMs": "bacde",  # nulls last, ties by venId
        "-responseMs": "abcde",
        "actualShedKw": "abcde",
        "-actualShedKw": "abcde",
        "status": "adebc",  # acked, allocated x2 (by venId), rejected, timed_out
        "-status": "cbdea",
    }.items():
        assert await _order(api, event_id, sort=sort) == [f"ven-{v}" for v in order], sort

    for params, venids in [
        ({"status": "allocated"}, ["ven-d", "ven-e"]),
        ({"status": "targeted"}, []),
        ({"q": "ALPHA"}, ["ven-a"]),
        ({"q": "VEN-C"}, ["ven-c"]),
        ({"q": "CH"}, ["ven-c", "ven-e"]),  # Charlie, Echo
        ({"q": "ch", "status": "allocated"}, ["ven-e"]),
    ]:
        found = (await _acks(api, event_id, **params)).json()
        assert (found["totalCount"], [r["venId"] for r in found["acks"]]) == (len(venids), venids), params

    for params, venids, next_offset in [
        ({"limit": 2}, ["ven-a", "ven-b"], "2"),
        ({"limit": 2, "offset": 2}, ["ven-c", "ven-d"], "4"),
        ({"limit": 2, "offset": 4}, ["ven-e"], None),
        ({"offset": 10}, [], None),
        ({"limit": 2, "offset": 1, "sort": "-shedKw"}, ["ven-a", "ven-b"], "3"),
        ({"limit": 1, "status": "allocated"}, ["ven-d"], "1"),
    ]:
        page = await _acks(api, event_id, **params)
        total = 2 if "status" in params else 5
        assert page.json()["totalCount"] == total, params
        assert [r["venId"] for r in page.json()["acks"]] == venids, params
        assert page.headers.get("X-Next-Offset") == next_offset, params

    bad = await api.get(f"/api/events/{event_id}/acks", params={"sort": "ackedAt"})
    assert bad.status_code == 422 and [p["field"] for p in bad.json()["detail"]] == ["sort"]


async def test_command_counts_and_latencies_of_an_event(api: httpx.AsyncClient, publish: Publish) -> None:
    event_id, _ = await _five_ven_event(api, publish)
    expected = {
        "sent": 6,  # a, b, c's event commands; a, b, e's restores
        "eventCommands": 3,
        "acked": 1,
        "rejected": 1,
        "failed": 0,
        "timedOut": 2,  # c's event command and e's restore, as make run's demo counts them
        "pending": 0,
        "restores": 3,
        "restoresAcked": 1,
        "retries": 4,  # a sent twice, c three times, e's restore twice
        "latencyP50Ms": 175.0,  # of 100 and 250
        "latencyP99Ms": 248.5,
    }

    async def counted() -> bool:
        return (await api.get(f"/api/events/{event_id}/commands")).json() == expected

    await wait_for(counted, 30, message="the command counts never reflected the facts")

    created = _fresh(
        await api.post(
            "/api/events", json={"startTime": _at(1), "endTime": _at(2), "requestedReductionKw": 1}
        )
    )
    assert (await api.get(f"/api/events/{created['id']}/commands")).json() == {
        name: None if name.startswith("latency") else 0 for name in expected
    }


async def test_unknown_events_are_404(api: httpx.AsyncClient) -> None:
    for path in ("acks", "commands", "delivery"):
        for event_id in ("evt-00000000", "not%20an%20id"):
            assert (await api.get(f"/api/events/{event_id}/{path}")).status_code == 404, path


def _reading(ven: str, at: datetime, shed: float | None, event_id: str | None) -> TelemetryReported:
    reading = Telemetry(venId=ven, timestamp=at, usedPowerKw=2.0, shedPowerKw=shed, eventId=event_id)
    return TelemetryReported(venId=ven, reading=reading, mqttTopic="volttron/metering", receivedAt=at, raw={})


async def test_delivered_kw_over_the_event(api: httpx.AsyncClient, publish: Publish) -> None:
    """An event of ven-a and ven-b planned for an hour from T0 (10 s buckets by default)."""
    event_id = new_event_id()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    readings = [
        _reading("ven-a", at(-5), 9.0, event_id),  # before the window
        _reading("ven-a", at(1), 1.0, event_id),
        _reading("ven-a", at(3), 2.0, event_id),
        _reading("ven-a", at(22), 3.0, event_id),
        _reading("ven-a", at(25), 4.0, event_id),
        _reading("ven-b", at(2), 0.5, event_id),
        _reading("ven-b", at(6), 9.0, None),  # not taking part at that moment
        _reading("ven-b", at(23), None, event_id),  # reports, sheds nothing known
        _reading("ven-x", at(1), 7.0, event_id),  # not one of the event's VENs
    ]
    await publish(
        EventCreated(eventId=event_id, startTime=t0, endTime=at(3600), requestedReductionKw=6),
        EventActivated(
            eventId=event_id,
            activatedAt=t0,
            allocations=[Allocation(venId="ven-a", shedKw=4), Allocation(venId="ven-b", shedKw=2)],
        ),
        *readings,
    )

    async def stored() -> bool:
        counts = {"ven-a": 5, "ven-b": 3, "ven-x": 1}
        for ven, count in counts.items():
            response = await api.get(f"/api/vens/{ven}/telemetry", params={"start": at(-60).isoformat()})
            if response.status_code != 200 or response.json()["totalCount"] != count:
                return False
        return (await api.get(f"/api/events/{event_id}")).json()["activatedAt"] is not None

    await wait_for(stored, 30, message="the projector never stored the event and its readings")
    slim = (await api.get(f"/api/events/{event_id}", params={"vens": "false"})).json()
    assert "vens" not in slim and slim["id"] == event_id and slim["requestedReductionKw"] == 6

    async def delivery(**params: Any) -> tuple[int, float, list[tuple[datetime, float, int]]]:
        response = await api.get(f"/api/events/{event_id}/delivery", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        points = [
            (datetime.fromisoformat(p["timestamp"]), p["deliveredKw"], p["vensReporting"])
            for p in body["points"]
        ]
        return body["stepSeconds"], body["requestedReductionKw"], points

    # per bucket: the sum over VENs of each one's mean shed; a VEN without a shed value still reports
    assert await delivery() == (10, 6.0, [(at(0), 2.0, 2), (at(20), 3.5, 2)])
    assert await delivery(start=at(15).isoformat()) == (10, 6.0, [(at(20), 3.5, 2)])
    assert await delivery(start=at(20).isoformat()) == (10, 6.0, [(at(20), 3.5, 2)])
    assert await delivery(start=at(21).isoformat()) == (10, 6.0, [])
    assert await delivery(end=at(20).isoformat()) == (10, 6.0, [(at(0), 2.0, 2)])
    assert await delivery(end=at(11).isoformat()) == (10, 6.0, [(at(0), 2.0, 2)])  # buckets are never cut
    assert await delivery(end=at(21).isoformat()) == (10, 6.0, [(at(0), 2.0, 2), (at(20), 3.5, 2)])
    fine = [(at(0), 2.0, 2), (at(20), 3.0, 2), (at(25), 4.0, 1)]
    assert await delivery(step_s=5) == (5, 6.0, fine)
    assert await delivery(step_s=5, start=at(21).isoformat()) == (5, 6.0, fine[2:])
    # a slice of the history: [20 s, 25 s), buckets whole
    assert await delivery(step_s=5, start=at(20).isoformat(), end=at(25).isoformat()) == (5, 6.0, fine[1:2])

    await publish(EventCompleted(eventId=event_id, completedAt=at(24), outcome="stopped"))

    async def ended() -> bool:
        return (await api.get(f"/api/events/{event_id}")).json()["endedAt"] is not None

    await wait_for(ended, 30, message="the projector never stored the end of the event")
    # the window now ends at the stop, 24 s: buckets of two report intervals (10 s), not 5 s;
    # the reading at 25 s is past it
    assert await delivery() == (10, 6.0, [(at(0), 2.0, 2), (at(20), 3.0, 2)])

    for step_s in (4, 3601):
        refused = await api.get(f"/api/events/{event_id}/delivery", params={"step_s": step_s})
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "step_s"


async def test_a_bucket_still_filling_is_not_listed(api: httpx.AsyncClient, publish: Publish) -> None:
    """A bucket is listed once a report interval (5 s here) has passed since it ended: before,
    VENs whose reading of it is still on its way would be missing from its sum."""
    event_id = new_event_id()
    now = datetime.now(UTC)
    t0 = now.replace(microsecond=0) - timedelta(seconds=60)
    await publish(
        EventCreated(eventId=event_id, startTime=t0, endTime=t0 + timedelta(hours=1), requestedReductionKw=2),
        EventActivated(eventId=event_id, activatedAt=t0, allocations=[Allocation(venId="ven-a", shedKw=2)]),
        _reading("ven-a", t0 + timedelta(seconds=1), 1.5, event_id),  # long settled
        # a clock ahead by 20 s: its 10 s bucket settles 25 s from now at the earliest
        _reading("ven-a", now + timedelta(seconds=20), 1.0, event_id),
    )

    async def points() -> list[dict[str, Any]] | None:
        response = await api.get(f"/api/events/{event_id}/delivery")
        found = response.json()["points"] if response.status_code == 200 else []
        return found or None

    listed = await wait_for(points, 30, message="the settled bucket was never listed")
    assert [(datetime.fromisoformat(p["timestamp"]), p["deliveredKw"]) for p in listed] == [(t0, 1.5)]
