"""SIGKILL every service in turn, and restart Mosquitto, while an event is in progress.

Each crash is timed to hit work in flight. The simulator delays every ack by 2-3 s, so the
test can kill a service between a command reaching the VENs and its ack reaching the
platform:

1. ven-sim: as the event's commands reach the VENs, before any ack. The VENs come back
   without memory (a new process), and the dispatcher must re-send every command with the
   same correlationId.
2. dispatcher: with every event command sent and unanswered, normally before its first
   re-send is due. The new process must resume the re-sends from the log.
3. ingest projector: as the re-sent commands reach the VENs. It stays down until all
   their acks are published, so they reach Kafka while no projector runs.
4. api: mid-event, while a watcher keeps reading the event.
5. Mosquitto: a clean restart mid-event; every client reconnects.
6. ingest bridge: as the restores reach the VENs. It stays down until all restore acks
   are published, so they wait at the broker in its persistent session.

Then everything is checked through REST, plus the simulator's own status:

- nothing lost: the event checks of docs/architecture.md (helpers.event_running and event_finished).
  Every VEN acked, `vensResponding` equals the number of VENs, the API shows the reduction
  the VENs report,
  every VEN was in the event, then restored, and the event is `completed`. Each VEN's
  telemetry is continuous: no gap longer than one interval plus the simulator's worst
  lateness (plus 1 s, as timestamps are whole seconds), except while the VENs could not
  publish (simulator down, broker restarting). Readings published while the bridge or
  the projector was down must all be there.
- nothing applied twice: each VEN applied each command exactly once, by correlationId
  (the simulator's `/status/applied`). Each VEN's REST history holds exactly one ack per
  command. While every service was being crashed, the REST reads of the event never went
  backwards (status, `vensResponding`), and failed only while the API itself was down.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dr_infra.services import ServiceProcess
from tests.fixtures.waiting import wait_for

from .helpers import (
    Sim,
    event_body,
    event_finished,
    event_running,
    get_json,
    iso,
    lateness_s,
    online_vens,
    parse_ts,
    received,
    sim_ven_ids,
    telemetry_gaps,
    vens_by_id,
)

pytestmark = pytest.mark.e2e
VENS = 6
LEAD_S, DURATION_S = 3, 32
#: Every ack leaves the VEN 2-3 s after its command arrived: the window each crash aims at.
ACK_DELAY_MS = "2000,3000"
#: The first re-send of an unanswered command comes this long after it was sent. It is
#: longer than a simulator restart, so the re-sends reach the new VENs.
ACK_TIMEOUT_S = 8
#: Telemetry interval here. Readings carry whole seconds (`int(now)` in the simulator), so
#: two readings in a row are up to interval + lateness + 1 s apart, and a lost one shows as
#: a gap of at least 2 * interval - lateness - 1 s. With 3 s the two stay apart while the
#: worst lateness (measured by the simulator, usually milliseconds) is under ~0.3 s; above
#: that, only a longer loss is caught, never a false one.
TELEMETRY_S = 3
STATUS_ORDER = {"scheduled": 0, "active": 1, "completed": 2}


def now() -> datetime:
    return datetime.now(UTC)


class Timeline:
    """Prints when each step happened (shown by pytest when the test fails)."""

    def __init__(self) -> None:
        self.start = now()

    def __call__(self, step: str, **details: object) -> datetime:
        at = now()
        extra = " ".join(f"{k}={v}" for k, v in details.items())
        print(f"t+{(at - self.start).total_seconds():6.2f}s {step} {extra}")
        return at


@dataclass
class EventWatch:
    """Reads the event over REST all along, as a client would, and keeps every answer."""

    api: httpx.AsyncClient
    event_id: str
    answers: list[tuple[datetime, str, int]] = field(default_factory=list)
    failures: list[tuple[datetime, str]] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            try:
                response = await self.api.get(f"/api/events/{self.event_id}")
            except httpx.TransportError as exc:
                self.failures.append((now(), f"{type(exc).__name__}: {exc}"))
            else:
                if response.status_code == 200:
                    event = response.json()
                    self.answers.append((now(), event["status"], event["vensResponding"]))
                else:
                    self.failures.append((now(), f"HTTP {response.status_code}: {response.text[:300]}"))
            await asyncio.sleep(0.25)  # pacing of the reads, not synchronisation

    def check(self, api_down: tuple[datetime, datetime], vens: int) -> None:
        """Reads only failed while the API was down, and never went backwards."""
        start, end = api_down
        stray = [f for f in self.failures if not start <= f[0] <= end]
        assert not stray, f"REST reads failed while the API was up: {stray}"
        assert self.answers, "no REST answer at all"
        for (_, status, responding), (at, later, more) in itertools.pairwise(self.answers):
            assert STATUS_ORDER[later] >= STATUS_ORDER[status], f"status {status} -> {later} at {at}"
            assert more >= responding, f"vensResponding {responding} -> {more} at {at}"
        assert self.answers[-1][1:] == ("completed", vens), self.answers[-5:]


async def readings_after(api: httpx.AsyncClient, ven_ids: list[str], after: datetime) -> None:
    """Until every VEN has a stored reading stamped at or after `after`."""
    latest: dict[str, datetime | None] = {}

    async def stored() -> bool:
        for ven_id in ven_ids:
            body = await get_json(api, f"/api/vens/{ven_id}/telemetry", limit=1)
            latest[ven_id] = parse_ts(body["telemetry"][0]["timestamp"]) if body["telemetry"] else None
        return all(ts is not None and ts >= after for ts in latest.values())

    await wait_for(stored, timeout=30, message=lambda: f"readings after {after}: {latest}")


async def telemetry_after(api: httpx.AsyncClient, ven_ids: list[str], after: datetime) -> None:
    """Until every VEN's latest reading was received after `after`."""
    seen: dict[str, str | None] = {}

    async def flowing() -> bool:
        vens = await vens_by_id(api, ven_ids, "/api/vens")
        seen.update({v: ven["lastSeen"] for v, ven in vens.items()})
        return all(last is not None and parse_ts(last) > after for last in seen.values())

    await wait_for(flowing, timeout=30, message=lambda: f"telemetry of every VEN after {after}: {seen}")


async def restart(service: ServiceProcess) -> datetime:
    """Start the killed service again, until it is ready (off the event loop). -> when ready."""
    await asyncio.to_thread(service.start)
    return now()


async def down_while_acks_go_out(
    sim: Sim, service: ServiceProcess, mark: Timeline, arrived: dict[str, Any]
) -> datetime:
    """Kill `service` now (the commands counted in `arrived` reached the VENs), keep it down
    until the VENs published all their acks, restart it. -> when it is ready again."""
    service.kill()
    mark(f"{service.name} killed", received=arrived["received_by_op"], acks=arrived["acks_sent"])
    await sim.until(
        "the acks of those commands published", lambda s: s["acks_sent"] >= arrived["commands_received"], 30
    )
    mark("acks published")
    back = await restart(service)
    mark(f"{service.name} back")
    return back


async def test_sigkill_each_service_and_restart_mosquitto_mid_event(
    platform_factory, api_for, infra, ns: str
) -> None:
    platform = platform_factory(
        VENS,
        ["--ack-shape", "mix", "--ack-delay-ms", ACK_DELAY_MS, "--interval", str(TELEMETRY_S)],
        env={"DISPATCHER_ACK_TIMEOUT_S": str(ACK_TIMEOUT_S)},
    )
    services = platform.services
    api = api_for(platform)
    sim = Sim(platform.sim_url)
    ven_ids = sim_ven_ids(ns, VENS)
    stats = await online_vens(api, VENS)
    since = now()
    created = await api.post(
        "/api/events",
        json=event_body(LEAD_S, DURATION_S, kw=0.5 * stats["potentialLoadReductionKw"]),
    )
    assert created.status_code == 201, created.text
    event_id, requested = created.json()["id"], created.json()["requestedReductionKw"]
    end_time = parse_ts(created.json()["endTime"])
    watch = EventWatch(api_for(platform), event_id)
    watcher = asyncio.create_task(watch.run())
    mark = Timeline()
    #: Windows in which the VENs could not publish (the simulator down, the broker restarting).
    outages: list[tuple[datetime, datetime]] = []
    try:
        # 1. ven-sim, as the event commands arrive (their acks are 2 s away).
        first = await sim.until("an event command arrived", lambda s: received(s, "event") >= 1, 60)
        services["ven-sim"].kill()
        sim_killed = mark("ven-sim killed", received=first["received_by_op"], acks=first["acks_sent"])
        worst_lateness = lateness_s(first)
        await restart(services["ven-sim"])
        await sim.connected()
        outages.append((sim_killed, mark("ven-sim back, links connected")))

        # 2. dispatcher, with every command unanswered and its re-send due ACK_TIMEOUT_S after it
        # was first sent; the new dispatcher must re-send from the log.
        unanswered = await sim.status()
        services["dispatcher"].kill()
        mark("dispatcher killed", received=unanswered["received_by_op"], acks=unanswered["acks_sent"])
        await restart(services["dispatcher"])
        mark("dispatcher back")

        # 3. projector, as the re-sent commands reach the new VENs; restarted once their acks
        # are out (in Kafka with no projector running).
        arrived = await sim.until(
            "every VEN got the re-sent event command", lambda s: received(s, "event") >= VENS, 60
        )
        await down_while_acks_go_out(sim, services["projector"], mark, arrived)

        # Nothing lost so far: every VEN acked (once), delivers, and shows the event.
        await event_running(api, event_id, ven_ids, requested, since=since, sim=sim)
        mark("event running on every VEN")

        # 4. api, with the watcher reading.
        services["api"].kill()
        api_killed = mark("api killed")
        api_down = (api_killed, await restart(services["api"]) + timedelta(seconds=1))
        mark("api back")

        # 5. Mosquitto: every MQTT client (VENs, bridge, dispatcher) reconnects.
        broker_down = mark("mosquitto restarting")
        await asyncio.to_thread(infra.restart, "mqtt")
        broker_up = mark("mosquitto back")
        # The VENs publish again once their links reconnected: until then nothing to store.
        await telemetry_after(api, ven_ids, broker_up)
        outages.append((broker_down, mark("telemetry of every VEN stored again")))
        # Crashes 1-5 came before the event's end (no VEN got a restore yet), so step 6 aims
        # at the restores in flight rather than at acks long forwarded.
        before_end = await sim.status()
        assert received(before_end, "restore") == 0, f"the event ended during the crashes: {before_end}"

        # 6. bridge, as the restores reach the VENs; restarted once their acks are out (queued
        # at the broker for its session).
        ending = await sim.until(
            "every VEN got its restore",
            lambda s: received(s, "restore") >= VENS,
            (end_time - now()).total_seconds() + 60,
        )
        bridge_up = await down_while_acks_go_out(sim, services["bridge"], mark, ending)

        await event_finished(api, event_id, ven_ids, since=since)
        mark("event completed, every VEN restored")
        # Each VEN's readings travel in order (one MQTT link, one Kafka partition): once one
        # published after `cutoff` + 1 s is stored, all stamped before `cutoff` are too.
        cutoff = bridge_up
        await readings_after(api, ven_ids, cutoff + timedelta(seconds=1))
        await wait_for(
            lambda: watch.answers and watch.answers[-1][1] == "completed",
            timeout=30,
            message="the watcher reads the event as completed",
        )
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)

    # Nothing applied twice, on the field side (the restarted simulator got every command).
    field_status = await sim.status()
    mark("simulator totals", duplicates_answered=field_status["duplicates_answered"])
    await sim.applied_once(event_id, ven_ids)
    watch.check(api_down, VENS)

    # Telemetry: every reading published is stored, before, during and after the crashes.
    bound = TELEMETRY_S + 1 + max(worst_lateness, lateness_s(field_status)) + 0.3
    margin = timedelta(seconds=bound)  # a reading in flight as the VENs went away may be lost
    windows = [(start - margin, end) for start, end in outages]
    for ven_id in ven_ids:
        path = f"/api/vens/{ven_id}/telemetry"
        series = await get_json(api, path, start=iso(since), end=iso(cutoff), limit=5000)
        stamps = [parse_ts(r["timestamp"]) for r in series["telemetry"]]
        assert series["totalCount"] == len(stamps) == len(set(stamps)), series["totalCount"]
        gaps = telemetry_gaps([since, *stamps, cutoff], bound, windows)
        assert not gaps, f"{ven_id}: readings missing (bound {bound:.2f}s, outages {outages}): {gaps}"
