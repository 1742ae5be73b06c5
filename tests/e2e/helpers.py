"""What the e2e tests ask of the platform, through its REST API (and the simulator's status).

`event_running` and `event_finished` are the checks of docs/architecture.md (what must always
hold) for one event, read through REST only; `check_event_lifecycle` runs both (the
closed-loop tests), the fault test runs them with crashes in between. `Sim` reads ven-sim's
HTTP status surface: the field side of the loop (what the VENs received, applied and
published), never the platform's state.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dr_contracts.ids import correlation_id
from tests.fixtures.platform import INTERVAL_S, ven_prefix
from tests.fixtures.waiting import wait_for

__all__ = ["INTERVAL_S", "ven_prefix"]  # with the helpers below, for the e2e tests


def sim_ven_ids(ns: str, count: int) -> list[str]:
    return [f"{ven_prefix(ns)}{i:03d}" for i in range(1, count + 1)]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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


async def get_json(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await api.get(path, params=params or None)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:500]}"
    return response.json()


async def event_reaches(
    api: httpx.AsyncClient, event_id: str, status: str, deadline_s: float = 60
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def reached() -> dict[str, Any] | None:
        seen.update(await get_json(api, f"/api/events/{event_id}"))
        return dict(seen) if seen["status"] == status else None

    return await wait_for(
        reached, timeout=deadline_s, message=lambda: f"event {event_id} {status}; last seen {seen}"
    )


async def vens_by_id(api: httpx.AsyncClient, ven_ids: list[str], vens_path: str) -> dict[str, Any]:
    listed = {v["id"]: v for v in await get_json(api, vens_path)}
    missing = set(ven_ids) - set(listed)
    assert not missing, f"{vens_path} lacks {sorted(missing)}"
    return {ven_id: listed[ven_id] for ven_id in ven_ids}


async def ven_acks(api: httpx.AsyncClient, ven_id: str, since: datetime) -> list[dict[str, Any]]:
    """Every ack of the VEN stored since `since` (REST `/api/vens/{id}/events`), oldest first.

    `totalCount` must match the list: the API counts and lists in one snapshot.
    """
    body = await get_json(api, f"/api/vens/{ven_id}/events", start=iso(since), limit=5000)
    assert body["totalCount"] == len(body["events"]), body
    return sorted(body["events"], key=lambda a: a["timestamp"])


async def event_running(
    api: httpx.AsyncClient,
    event_id: str,
    ven_ids: list[str],
    requested_kw: float,
    *,
    since: datetime,
    sim: Sim,
    vens_path: str = "/api/vens",
    deadline_s: float = 60,
) -> None:
    """While the event runs: every VEN got its command and acked it once, `vensResponding`
    is the number of VENs, the allocation covers `requested_kw` (callers ask for less than
    the VENs can shed), and the platform shows what the field reports: at one moment, every
    VEN's latest reading (ven-sim's `/status/reports`) names the event and sheds, in sum, more
    than 0 kW, every VEN shows the event as `activeEventId`, and `currentReductionKw` is the
    sum of the shed in those readings.

    Not "within 10 % of the request": a VEN's shed is measured against the baseline it froze
    at the start, so it moves with its loads (docs/ven-sim.md, "Behaviour on the wire")."""
    count = len(ven_ids)
    last: dict[str, Any] = {}

    async def all_acked() -> bool:
        last.update(await get_json(api, f"/api/events/{event_id}"))
        statuses = {v["venId"]: v["status"] for v in last["vens"]}
        return last["vensResponding"] == count and statuses == dict.fromkeys(ven_ids, "acked")

    await wait_for(
        all_acked, timeout=deadline_s, message=lambda: f"every VEN acked {event_id}; last seen {last}"
    )
    assert last["status"] == "active", last
    assert abs(last["allocatedKw"] - requested_kw) <= 0.01 * requested_kw, last

    async def each_acked_once() -> bool:
        for ven_id in ven_ids:
            acks = [a for a in await ven_acks(api, ven_id, since) if a["op"] == "event"]
            if not acks:
                return False
            cid = correlation_id(event_id, ven_id, "event")
            # One stored ack, under the command's stable correlationId: a re-sent command is
            # answered with the first ack again (same bytes, absorbed), a twice-applied one is not.
            assert [a["correlationId"] for a in acks] == [cid], (ven_id, acks)
            assert acks[0]["status"] == "accepted" and acks[0]["eventId"] == event_id, acks
        return True

    await wait_for(each_acked_once, timeout=deadline_s, message="each VEN's event ack in its history")

    # The platform side trails the field by the pipeline's lag, and a VEN may report between
    # two reads: a moment counts only when the field's reports did not change around the API's
    # answers (read before and after them).
    seen: dict[str, Any] = {}

    async def showing_what_the_vens_report() -> bool:
        before = await sim.reports()
        metrics = await get_json(api, f"/api/events/{event_id}/metrics")
        vens = await vens_by_id(api, ven_ids, vens_path)
        after = await sim.reports()
        reported = {v: after.get(v) for v in ven_ids}
        field_kw = sum(r["shedPowerKw"] for r in reported.values() if r)
        seen.update(
            reports=reported,
            field_kw=round(field_kw, 3),
            current_kw=metrics["currentReductionKw"],
            active={v: ven["metrics"]["activeEventId"] for v, ven in vens.items()},
        )
        return (
            before == after
            and all(r is not None and r["eventId"] == event_id for r in reported.values())
            and field_kw > 0
            and all(active == event_id for active in seen["active"].values())
            and abs(metrics["currentReductionKw"] - field_kw) <= 0.001 * count
        )

    await wait_for(
        showing_what_the_vens_report,
        timeout=deadline_s,
        message=lambda: f"the VENs' reports of {event_id} shown by the API; last seen {seen}",
    )


async def event_finished(
    api: httpx.AsyncClient,
    event_id: str,
    ven_ids: list[str],
    *,
    since: datetime,
    vens_path: str = "/api/vens",
    deadline_s: float = 60,
) -> dict[str, Any]:
    """After the end: the event is `completed` with every VEN still counted as responding,
    every VEN acked its restore and shows no active event, and each VEN's history holds
    exactly one ack per command of the event (event and restore, stable correlationIds)."""
    done = await event_reaches(api, event_id, "completed", deadline_s=deadline_s)
    assert done["vensResponding"] == len(ven_ids), done
    shown: dict[str, Any] = {}

    async def restored() -> bool:
        vens = await vens_by_id(api, ven_ids, vens_path)
        shown.update({v: ven["metrics"]["activeEventId"] for v, ven in vens.items()})
        return all(active is None for active in shown.values())

    await wait_for(restored, timeout=deadline_s, message=lambda: f"every VEN restored; activeEventId {shown}")
    histories: dict[str, list[dict[str, Any]]] = {}

    async def restores_acked() -> bool:
        for ven_id in ven_ids:
            histories[ven_id] = acks = await ven_acks(api, ven_id, since)
            if not any(a["op"] == "restore" for a in acks):
                return False
        return True

    await wait_for(
        restores_acked, timeout=deadline_s, message=lambda: f"every restore acked; histories {histories}"
    )
    for ven_id in ven_ids:
        acks = await ven_acks(api, ven_id, since)
        mine = [a for a in acks if (a["correlationId"] or "").startswith(f"{event_id}-")]
        by_cid = Counter(a["correlationId"] for a in mine)
        expected = {correlation_id(event_id, ven_id, op): 1 for op in ("event", "restore")}
        assert by_cid == expected, (ven_id, mine)
        restore = next(a for a in mine if a["op"] == "restore")
        assert restore["status"] == "success" and restore["eventId"] == event_id, restore
    return done


async def check_event_lifecycle(
    api: httpx.AsyncClient,
    event_id: str,
    ven_ids: list[str],
    requested_kw: float,
    *,
    since: datetime,
    sim: Sim,
    vens_path: str = "/api/vens",
    deadline_s: float = 60,
) -> None:
    """Issue 7's checks for one event, start to end, through REST; then, on the field side,
    that each VEN applied each of the event's commands exactly once."""
    await event_running(
        api, event_id, ven_ids, requested_kw, since=since, sim=sim, vens_path=vens_path, deadline_s=deadline_s
    )
    await event_finished(api, event_id, ven_ids, since=since, vens_path=vens_path, deadline_s=deadline_s)
    await sim.applied_once(event_id, ven_ids)


class Sim:
    """ven-sim's HTTP status surface (`/status`, `/status/applied`); None while it is down."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def get(self, path: str = "/status") -> Any:
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
                response = await client.get(path)
        except httpx.TransportError:
            return None
        return response.json() if response.status_code == 200 else None

    async def status(self) -> dict[str, Any]:
        status = await self.get()
        assert status is not None, f"ven-sim status at {self.url} does not answer"
        return status

    async def reports(self) -> dict[str, Any]:
        """venId -> the latest reading each VEN published (`/status/reports`)."""
        reports = await self.get("/status/reports")
        assert reports is not None, f"ven-sim reports at {self.url} do not answer"
        return reports

    async def until(
        self,
        what: str,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 60,  # noqa: ASYNC109 - a deadline wait, as wait_for
    ) -> dict[str, Any]:
        """Wait until `predicate(status)` holds; return that status."""
        last: dict[str, Any] = {}

        async def holds() -> dict[str, Any] | None:
            status = await self.get()
            if status is None:
                return None
            last.clear()
            last.update(status)
            return status if predicate(status) else None

        return await wait_for(holds, timeout=timeout, message=lambda: f"ven-sim: {what}; last {last}")

    async def connected(self, timeout: float = 60) -> dict[str, Any]:  # noqa: ASYNC109
        """Telemetry running and every MQTT link connected and subscribed."""
        return await self.until(
            "running with every link connected",
            lambda s: s["running"] and s["links"] > 0 and s["links_connected"] == s["links"],
            timeout,
        )

    async def applied_once(self, event_id: str, ven_ids: list[str]) -> None:
        """Each VEN applied the event's command and its restore exactly once (by correlationId)."""
        applied = await self.get("/status/applied")
        assert applied is not None, "ven-sim /status/applied does not answer"
        mine = {cid: n for cid, n in applied.items() if cid.startswith(f"{event_id}-")}
        expected = {correlation_id(event_id, v, op): 1 for v in ven_ids for op in ("event", "restore")}
        assert mine == expected, mine


def received(status: dict[str, Any], op: str) -> int:
    """Commands of `op` the simulator received (first sends and re-sends)."""
    return int(status["received_by_op"].get(op, 0))


def lateness_s(status: dict[str, Any]) -> float:
    """The latest any reading of this simulator process was published after its due time."""
    return float(status["lateness_ms"]["max"]) / 1000


def telemetry_gaps(
    timestamps: list[datetime], bound_s: float, outages: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime, float]]:
    """Gaps between consecutive readings longer than `bound_s` plus the time they overlap an
    outage (a window in which the VENs could not publish: simulator down, broker restarting).

    A VEN reports every interval; its next reading is due at most one interval after the
    previous one was sent, and is sent at most `lateness` after that. So consecutive stored
    readings are at most interval + lateness apart (+1 s for whole-second timestamps)
    unless one was lost: callers pass that as `bound_s`.
    """
    found = []
    ordered = sorted(timestamps)
    for before, after in itertools.pairwise(ordered):
        overlap = sum(
            max(0.0, (min(after, end) - max(before, start)).total_seconds()) for start, end in outages
        )
        gap = (after - before).total_seconds()
        if gap > bound_s + overlap:
            found.append((before, after, round(gap, 3)))
    return found
