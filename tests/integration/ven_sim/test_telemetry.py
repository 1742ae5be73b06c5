"""Telemetry on the wire: duplicates on per-VEN topics, expiry without restore, interval changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from dr_contracts.commands import event_command, simple_command
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer
from ven_sim.bootstrap import running_simulator
from ven_sim.settings import Settings

pytestmark = pytest.mark.integration


async def test_duplicates_on_per_ven_topics_are_the_same_reading(
    observer: Observer, sim_settings: Callable[..., Settings]
) -> None:
    topics = observer.topics
    async with running_simulator(sim_settings(vens=2, per_ven_topics="both")):
        await wait_for(
            lambda: len(observer.payloads(topics.telemetry("ven-002"))) >= 2,
            timeout=20,
            message="readings on ven/telemetry/ven-002",
        )
    for ven in ("ven-001", "ven-002"):
        metering = {(r.venId, r.timestamp): r for r in observer.readings() if r.venId == ven}
        for topic in (topics.oadr_meter(ven), topics.telemetry(ven)):
            copies = {(r.venId, r.timestamp): r for r in observer.readings(topic)}
            assert copies and set(copies) <= set(metering)
            assert all(metering[key] == reading for key, reading in copies.items())


async def test_an_event_ends_by_itself_without_restore(
    observer: Observer, sim_settings: Callable[..., Settings]
) -> None:
    async with running_simulator(sim_settings(vens=1)) as sim:
        start = datetime.now(UTC)
        body = event_command(
            ven_id="ven-001",
            event_id="evt-short",
            correlation_id="c-short",
            shed_kw=0.5,
            start=start,
            end=start + timedelta(seconds=2),
        )
        await observer.send("ven-001", body)
        await wait_for(
            lambda: any(r.eventId == "evt-short" for r in observer.readings()),
            timeout=20,
            message="a reading during the event",
        )
        await wait_for(
            lambda: any(
                r.eventId is None and r.timestamp > start + timedelta(seconds=2) for r in observer.readings()
            ),
            timeout=20,
            message="a reading after the event's end without it",
        )
        assert sim.stats.events_expired == 1 and sim.vens["ven-001"].event is None
        assert not any(a.op == "restore" for a in observer.acks("ven-001"))


async def test_set_config_shortens_the_report_interval(
    observer: Observer, sim_settings: Callable[..., Settings]
) -> None:
    async with running_simulator(sim_settings(vens=1, interval_s=600)) as sim:
        body = simple_command(
            "setConfig", ven_id="ven-001", correlation_id="c-cfg", data={"report_interval_seconds": 1}
        )
        await observer.send("ven-001", body)
        await wait_for(
            lambda: len(observer.readings()) >= 2,
            timeout=20,
            message=lambda: f"{len(observer.readings())} readings after setConfig",
        )
        assert sim.vens["ven-001"].report_interval_seconds == 1
