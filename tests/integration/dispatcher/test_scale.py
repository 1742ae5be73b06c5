"""Replicas and crashes: every event handled once, fan-outs finished after a SIGKILL."""

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
from tests.fixtures.waiting import wait_for
from tests.integration.dispatcher.support import append, seed_vens, ven_ids

pytestmark = pytest.mark.integration


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives `python -m dispatcher` these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MQTT_", "DISPATCHER_"))}
    for name, value in settings.model_dump().items():
        if value is not None:
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


async def test_sigkill_mid_fan_out_then_restart(settings_for, vens, tail, pg_db, tmp_path):
    # A window of one unacknowledged publish makes the fan-out slow enough to cut in half.
    settings = settings_for(mqtt_max_inflight=1, dispatcher_instance_id="crash")
    fleet = ven_ids(1000)
    await seed_vens(pg_db, dict.fromkeys(fleet, 1.0))
    log_path = str(tmp_path / "dispatcher.log")
    first = start_process(settings, log_path)
    second = None
    try:
        now = datetime.now(UTC)
        evt = EventCreated(
            eventId=new_event_id(),
            startTime=now,
            endTime=now + timedelta(seconds=15),
            requestedReductionKw=1000,
            startNow=True,
        )
        await append(settings, evt)
        await wait_for(
            lambda: len(vens.vens_with("event")) >= 150,
            30,
            interval=0.005,
            message="the first dispatcher never started the fan-out",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        cut_at = len(vens.vens_with("event"))
        second = start_process(settings.model_copy(update={"mqtt_max_inflight": 1000}), log_path)
        await wait_for(
            lambda: vens.vens_with("event", evt.eventId) == set(fleet),
            40,
            message=lambda: f"{len(vens.vens_with('event'))} of 1000 VENs commanded",
        )
        await wait_for(
            lambda: vens.vens_with("restore", evt.eventId) == set(fleet),
            40,
            message=lambda: f"{len(vens.vens_with('restore'))} of 1000 VENs restored",
        )
        await wait_for(lambda: tail.of("EventCompleted", evt.eventId), 20)
        assert cut_at < len(fleet), "the SIGKILL came after the fan-out had finished"
        for ven in fleet:
            [cmd] = vens.applied_ops(ven, "event")
            assert cmd["correlationId"] == correlation_id(evt.eventId, ven, "event")
            assert len(vens.applied_ops(ven, "restore")) == 1
        assert len(tail.of("EventActivated", evt.eventId)) == 1
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(15)


async def test_two_replicas_dispatch_every_event_once(settings_for, vens, tail, pg_db):
    fleet = ven_ids(40)
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
    async with running_dispatcher(one):
        await append(one, *events[:20])
        async with running_dispatcher(two):  # joins: a rebalance while events are due
            await append(two, *events[20:])
            for evt in events:
                await wait_for(lambda e=evt: tail.of("EventCompleted", e.eventId), 30)
            await wait_for(lambda: len(vens.vens_with("restore")) == len(fleet), 10)
    for evt in events:
        [ven] = evt.venIds or []
        assert len(tail.of("EventActivated", evt.eventId)) == 1
        assert len(tail.of("EventCompleted", evt.eventId)) == 1
        assert vens.deliveries[correlation_id(evt.eventId, ven, "event")] == 1
        assert vens.deliveries[correlation_id(evt.eventId, ven, "restore")] == 1
