"""Commands in, acks and telemetry out, through a real Mosquitto: each ack shape, both modes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from dr_contracts import jsonio
from dr_contracts.acks import detect_shape
from dr_contracts.commands import event_command, simple_command
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer
from ven_sim.bootstrap import running_simulator
from ven_sim.fleet import ack_shape_of
from ven_sim.settings import Settings
from ven_sim.simulator import Simulator

pytestmark = pytest.mark.integration

CANONICAL = {
    "schemaVersion",
    "venId",
    "timestamp",
    "usedPowerKw",
    "shedPowerKw",
    "requestedReductionKw",
    "eventId",
    "baselinePowerKw",
    "panelAmperageRating",
    "panelVoltage",
    "panelMaxKw",
    "currentAmps",
    "panelUtilizationPercent",
    "loads",
}
LEGACY = {"power_kw", "shed_kw", "base_power_kw", "ts", "active_event"}


def shed(ven_id: str, cid: str, kw: float = 1.0, minutes: int = 10) -> dict:
    now = datetime.now(UTC)
    return event_command(
        ven_id=ven_id,
        event_id="evt-0000aaaa",
        correlation_id=cid,
        shed_kw=kw,
        start=now,
        end=now + timedelta(minutes=minutes),
    )


def half_of_capability(sim: Simulator, ven_id: str) -> float:
    """A request the VEN can meet whatever the hour: its load shape follows the time of day."""
    loads = sim.vens[ven_id].loads(time.time())
    return round(0.5 * sum(load["shedCapabilityKw"] for load in loads), 3)


@pytest.mark.parametrize("mode", ["multiplexed", "per-ven"])
@pytest.mark.parametrize("shape", ["A", "B", "C"])
async def test_commands_acks_and_telemetry(
    observer: Observer, sim_settings: Callable[..., Settings], mode: str, shape: str
) -> None:
    async with running_simulator(sim_settings(mode=mode, ack_shape=shape)) as sim:
        ven = "ven-002"
        kw = half_of_capability(sim, ven)
        await observer.send(ven, shed(ven, "c-event", kw))
        await observer.send(ven, shed(ven, "c-event", kw))  # a retry: same correlationId
        await observer.send(ven, simple_command("ping", ven_id=ven, correlation_id="c-ping"))
        await observer.send(ven, b"{this is not json")
        await observer.send(ven, {"op": "selfDestruct", "correlationId": "c-unknown", "venId": ven})
        await wait_for(
            lambda: len(observer.raw_acks(ven)) >= 5,
            timeout=20,
            message=lambda: f"acks: {observer.raw_acks(ven)}",
        )

        first, again = observer.ack_for(ven, "c-event")
        assert first == again and first.ok and first.status == "accepted"
        assert detect_shape(observer.raw_acks(ven)[0]) == shape
        assert kw > 0 and first.requestedShedKw == kw and first.actualShedKw == pytest.approx(kw, abs=1e-3)
        assert first.circuitsCurtailed
        assert sim.applied() == {"c-event": 1, "c-ping": 1}  # the retry was not applied again
        assert sim.vens[ven].event is not None
        (pong,) = observer.ack_for(ven, "c-ping")
        assert pong.pong is True
        (garbage,) = observer.ack_for(ven, None)
        assert garbage.status == "rejected" and "invalid_json" in (garbage.reason or "")
        (unknown,) = observer.ack_for(ven, "c-unknown")
        assert unknown.status == "rejected" and "unknown_op" in (unknown.reason or "")

        await wait_for(
            lambda: {r.venId for r in observer.readings()} == {"ven-001", "ven-002", "ven-003"},
            timeout=20,
            message="a reading from every VEN",
        )
        (raw,) = observer.payloads(observer.topics.metering)[:1]
        assert CANONICAL | LEGACY <= set(jsonio.loads(raw))
        await wait_for(
            lambda: any(r.venId == ven and r.eventId == "evt-0000aaaa" for r in observer.readings()),
            timeout=20,
            message="a reading during the event",
        )
        stats = sim.stats
        assert (stats.commands_received, stats.duplicates_answered, stats.commands_rejected) == (5, 1, 2)


async def test_mixed_shapes_follow_each_ven(
    observer: Observer, sim_settings: Callable[..., Settings]
) -> None:
    settings = sim_settings(vens=9, ack_shape="mix", interval_s=30)
    async with running_simulator(settings):
        for ven in settings.ven_ids:
            await observer.send(ven, shed(ven, f"c-{ven}"))
        await wait_for(
            lambda: all(observer.raw_acks(v) for v in settings.ven_ids),
            timeout=20,
            message="an ack from every VEN",
        )
    shapes = {v: detect_shape(observer.raw_acks(v)[0]) for v in settings.ven_ids}
    assert shapes == {v: ack_shape_of("mix", i) for i, v in enumerate(settings.ven_ids)}
    assert set(shapes.values()) == {"A", "B", "C"}
