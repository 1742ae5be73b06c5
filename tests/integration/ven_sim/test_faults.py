"""Fault knobs through a real broker: offline VENs, dropped, delayed and rejected acks, bad readings."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dr_contracts.commands import simple_command
from dr_contracts.rejection import Rejected, decode_object
from dr_contracts.telemetry import normalize_telemetry
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer
from ven_sim.bootstrap import running_simulator
from ven_sim.handling import SIMULATED_REJECTION
from ven_sim.settings import Settings

pytestmark = pytest.mark.integration


def ping(ven: str, cid: str) -> dict:
    return simple_command("ping", ven_id=ven, correlation_id=cid)


async def test_offline_vens_neither_report_nor_answer(
    observer: Observer, sim_settings: Callable[..., Settings]
) -> None:
    async with running_simulator(sim_settings(vens=10, offline_fraction=0.5)) as sim:
        online = {v for v, node in sim.by_id.items() if node.online}
        assert 0 < len(online) < 10
        for ven in sim.by_id:
            await observer.send(ven, ping(ven, f"p-{ven}"))
        await wait_for(lambda: all(observer.raw_acks(v) for v in online), timeout=20, message="pongs")
        await wait_for(
            lambda: {r.venId for r in observer.readings()} == online,
            timeout=20,
            message="a reading from every online VEN",
        )
        assert sim.stats.commands_received == len(online)
    assert not any(observer.raw_acks(v) for v in set(sim.by_id) - online)
    assert {r.venId for r in observer.readings()} == online


async def test_rejections_drops_and_malformed_readings(
    observer: Observer, sim_settings: Callable[..., Settings]
) -> None:
    settings = sim_settings(vens=2, reject_rate=1.0, malformed_rate=1.0)
    async with running_simulator(settings) as sim:
        await observer.send("ven-001", ping("ven-001", "p-1"))
        await wait_for(lambda: observer.acks("ven-001"), timeout=20, message="the rejection")
        await wait_for(
            lambda: len(observer.payloads(observer.topics.metering)) >= 2,
            timeout=20,
            message="malformed readings",
        )
        assert sim.stats.telemetry_sent == 0
    (ack,) = observer.acks("ven-001")
    assert ack.status == "rejected" and ack.reason == SIMULATED_REJECTION
    for payload in observer.payloads(observer.topics.metering):
        with pytest.raises(Rejected):
            normalize_telemetry(decode_object(payload))


async def test_dropped_acks_still_apply(observer: Observer, sim_settings: Callable[..., Settings]) -> None:
    async with running_simulator(sim_settings(vens=1, ack_drop_rate=1.0)) as sim:
        await observer.send("ven-001", ping("ven-001", "p-1"))
        await wait_for(lambda: sim.stats.acks_dropped == 1, timeout=20, message="the command")
        assert sim.applied() == {"p-1": 1} and sim.stats.acks_sent == 0


async def test_delayed_acks(observer: Observer, sim_settings: Callable[..., Settings]) -> None:
    async with running_simulator(sim_settings(vens=1, ack_delay_ms="400")):
        sent = await observer.send("ven-001", ping("ven-001", "p-1"))
        await wait_for(lambda: observer.raw_acks("ven-001"), timeout=20, message="the delayed ack")
    (arrived,) = [at for topic, _, at in observer.messages if topic == observer.topics.ack("ven-001")]
    assert arrived - sent >= 0.4
