"""Replicas and crashes: every event handled once, fan-outs finished after a SIGKILL.

The VENs are simulated (`ven_sim`), so "applied once" is what the VENs themselves
counted by correlationId; acks come back through the ingest bridge. `vens` is seeded:
these tests are about the dispatcher, and 1,000 VENs' telemetry would only add load.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.bootstrap import running_dispatcher
from dispatcher.settings import Settings
from dr_contracts.facts import EventCreated
from dr_contracts.ids import correlation_id, new_event_id
from ingest.bootstrap import running_bridge
from tests.fixtures.waiting import wait_for
from tests.integration.dispatcher.support import AckTap, PublishCutoff, append, applied_to, seed_vens

pytestmark = pytest.mark.integration


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives `python -m dispatcher` these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MQTT_", "DISPATCHER_"))}
    for name, value in settings.model_dump().items():
        if isinstance(value, dict):  # KAFKA_TOPIC_PARTITIONS: name=count,name=count
            env[name.upper()] = ",".join(f"{k}={v}" for k, v in value.items())
        elif value is not None:
            env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env | {"LOG_JSON": "true"}


def start_process(settings: Settings, log_path: str) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dispatcher"],
            env=settings_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_sigkill_mid_fan_out_then_restart(
    settings_for, ingest_settings, start_sim, tail, pg_db, tmp_path
):
    sim = await start_sim(vens=1000)
    fleet = set(sim.vens)
    await seed_vens(pg_db, dict.fromkeys(fleet, 1.0))
    settings = settings_for(dispatcher_instance_id="crash")
    log = tmp_path / "dispatcher.log"
    log_path = str(log)
    cutoff = PublishCutoff(settings.mqtt_url, limit=300)
    first = second = None
    try:
        async with cutoff.running(), AckTap(settings.mqtt_url, settings.mqtt_topics).running() as tap:
            # The first dispatcher reaches the broker through the cutoff: its fan-out gets
            # 300 commands out, then waits for PUBACKs that never come. The bridge is not
            # running yet, so none of those VENs' acks is in the log when it dies.
            first = start_process(settings.model_copy(update={"mqtt_url": cutoff.url}), log_path)
            await wait_for(
                lambda: b"dispatcher.ready" in log.read_bytes(),
                30,
                0.1,
                message=lambda: f"the dispatcher never got ready: {log.read_bytes()[-2000:]!r}",
            )
            now = datetime.now(UTC)
            evt = EventCreated(
                eventId=new_event_id(),
                startTime=now,
                endTime=now + timedelta(seconds=15),
                requestedReductionKw=1000,
                startNow=True,
            )
            eid = evt.eventId
            await append(settings, evt)
            await wait_for(
                lambda: cutoff.cut.is_set() and tap.count == cutoff.limit,
                30,
                message=lambda: f"fan-out not cut: {tap.count} VENs acked",
            )
            first.send_signal(signal.SIGKILL)  # in the middle of its fan-out
            first.wait(10)
        assert len(applied_to(sim, eid, "event")) == cutoff.limit

        # Write-ahead: every command the dead dispatcher may have published is in the log.
        def first_attempts() -> bool:
            issued = {f.correlationId for f in tail.of("CommandIssued", eid) if f.attempt == 1}
            return issued == {correlation_id(eid, v, "event") for v in fleet}

        await wait_for(first_attempts, 20, message="the interrupted fan-out is not all in dr.commands")
        async with running_bridge(ingest_settings):
            # None of those commands is acked in the log: the new dispatcher re-sends each
            # when its ack is overdue, with its correlationId.
            second = start_process(settings, log_path)
            await wait_for(
                lambda: applied_to(sim, eid, "event") == fleet,
                40,
                message=lambda: f"{len(applied_to(sim, eid, 'event'))} of 1000 VENs applied the event",
            )
            await wait_for(
                lambda: applied_to(sim, eid, "restore") == fleet,
                40,
                message=lambda: f"{len(applied_to(sim, eid, 'restore'))} of 1000 VENs restored",
            )
            await wait_for(lambda: tail.of("EventCompleted", eid), 20)

            def restore_acks() -> list:
                acks = [a for a in tail.all_acks() if a.op == "restore"]
                return acks if {a.venId for a in acks} == fleet else []

            restores = await wait_for(restore_acks, 20, message="restore acks missing from ven.acks")
        # Each VEN counted exactly one application of its event command and one of its
        # restore. The 300 re-sent commands reached VENs that had applied them already: same
        # correlationIds, answered from the VENs' cache, not applied again.
        assert sim.stats.duplicates_answered >= cutoff.limit
        applied = sim.applied()
        expected = {correlation_id(eid, v, op) for v in fleet for op in ("event", "restore")}
        assert set(applied) == expected
        assert set(applied.values()) == {1}
        assert len(tail.of("EventActivated", eid)) == 1
        assert tail.of("CommandTimedOut", eid) == []
        # ... and the restores came at the end, each acked through the bridge.
        assert min(a.ts for a in restores) >= evt.endTime - timedelta(milliseconds=20)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(15)


async def test_two_replicas_dispatch_every_event_once(settings_for, start_sim, bridge, tail, pg_db):
    sim = await start_sim(vens=40)
    fleet = sorted(sim.vens)
    await seed_vens(pg_db, dict.fromkeys(fleet, 1.0))
    one, two = (settings_for(dispatcher_instance_id=name) for name in ("one", "two"))
    now = datetime.now(UTC)
    events = [
        EventCreated(
            eventId=new_event_id(),
            startTime=now + timedelta(seconds=1 + i * 0.1),
            endTime=now + timedelta(seconds=6 + i * 0.1),
            requestedReductionKw=1,
            venIds=[ven],
        )
        for i, ven in enumerate(fleet)
    ]
    cids = {
        correlation_id(e.eventId, v, op)
        for e in events
        for v in e.venIds or []
        for op in ("event", "restore")
    }

    def issued() -> list:
        return [c for c in tail.of("CommandIssued") if c.correlationId in cids]

    async with running_dispatcher(one) as first:
        await append(one, *events[:20])
        async with running_dispatcher(two) as second:  # joins: a rebalance while events are due
            await append(two, *events[20:])
            await wait_for(
                lambda: first.dispatcher.owned_events and second.dispatcher.owned_events,
                20,
                message="the two replicas never shared the events' partitions",
            )
            for evt in events:
                await wait_for(lambda e=evt: tail.of("EventCompleted", e.eventId), 30)
            await wait_for(lambda: set(sim.applied()) == cids, 10, message="not every command applied")
            # Every command that reached a VEN was recorded as issued, once per attempt.
            await wait_for(lambda: sim.stats.commands_received == len(issued()), 10)
    applied = sim.applied()
    for evt in events:
        assert len(tail.of("EventActivated", evt.eventId)) == 1
        assert len(tail.of("EventCompleted", evt.eventId)) == 1
    for cid in cids:
        assert applied[cid] == 1
        # Attempt 1 exactly once: no second replica sent it on its own. (Attempts 2+ are
        # re-sends of an ack that came late, and each is recorded once too.)
        attempts = sorted(c.attempt for c in issued() if c.correlationId == cid)
        assert attempts == list(range(1, len(attempts) + 1)), f"{cid}: attempts {attempts}"
