"""The simulator's routing, counters, ack faults and telemetry, with a recording publisher."""

from __future__ import annotations

import asyncio

import pytest

from dr_contracts import jsonio
from dr_contracts.rejection import decode_object
from dr_contracts.telemetry import normalize_telemetry
from dr_contracts.topics import MqttTopics
from tests.fixtures.waiting import wait_for
from tests.unit.ven_sim_app.helpers import T0, VEN, command, event
from ven_sim import simulator as simulator_module
from ven_sim.faults import Faults, parse_delay
from ven_sim.fleet import build_fleet
from ven_sim.simulator import Simulator

pytestmark = pytest.mark.unit

TOPICS = MqttTopics("r/")


class Recorder:
    """Stands in for an MQTT link: keeps what was published."""

    def __init__(self, up: bool = True) -> None:
        self.up = up
        self.sent: list[tuple[str, bytes, int]] = []

    def publish(self, topic: str, payload: bytes, qos: int) -> bool:
        if self.up:
            self.sent.append((topic, payload, qos))
        return self.up

    def on(self, topic: str) -> list[dict]:
        return [jsonio.loads(p) for t, p, _ in self.sent if t == topic]


def simulator(
    faults: Faults | None = None,
    per_ven_topics: str = "none",
    offline: frozenset = frozenset(),
    up: bool = True,
    interval_s: float = 5.0,
) -> tuple[Simulator, Recorder]:
    nodes = build_fleet([VEN, "ven-002"], seed=7, ack_shape="A", interval_s=interval_s, offline=offline)
    sim = Simulator(
        nodes,
        topics=TOPICS,
        faults=faults or Faults(),
        interval_s=interval_s,
        per_ven_topics=per_ven_topics,
        clock=lambda: T0,
    )
    recorder = Recorder(up)
    for node in nodes:
        sim.attach(node, recorder)
    return sim, recorder


async def test_commands_are_routed_acked_and_counted() -> None:
    sim, out = simulator()
    sim.on_message(TOPICS.cmd(VEN), event())
    sim.on_message(TOPICS.cmd(VEN), event())
    sim.on_message(TOPICS.cmd(VEN), b"nonsense")
    sim.on_message(TOPICS.cmd("ven-999"), event())  # not ours
    sim.on_message("other/ven/cmd/ven-001", event())  # outside our root
    acks = out.on(TOPICS.ack(VEN))
    assert [a["ok"] for a in acks] == [True, True, False]
    assert acks[0] == acks[1] and all(qos == 1 for _, _, qos in out.sent)
    s = sim.stats
    assert (
        s.commands_received,
        s.commands_applied,
        s.duplicates_answered,
        s.commands_rejected,
        s.commands_malformed,
        s.commands_ignored,
        s.acks_sent,
    ) == (3, 1, 1, 1, 1, 2, 3)
    assert sim.applied() == {"evt-1-ven-001-shed": 1}
    status = sim.status()
    assert status["vens_in_event"] == 1 and status["events"] == {"evt-1": 1} and status["current_shed_kw"] > 0


async def test_offline_vens_do_not_answer() -> None:
    sim, out = simulator(offline=frozenset({VEN}))
    sim.on_message(TOPICS.cmd(VEN), event())
    assert not out.sent and sim.stats.commands_ignored == 1 and sim.status()["online"] == 1


async def test_dropped_acks_are_counted_and_the_command_still_applied() -> None:
    sim, out = simulator(Faults(ack_drop_rate=1.0))
    sim.on_message(TOPICS.cmd(VEN), event())
    assert not out.sent and sim.stats.acks_dropped == 1 and sim.stats.commands_applied == 1


async def test_delayed_acks_arrive_later() -> None:
    sim, out = simulator(Faults(ack_delay=parse_delay("50")))
    sim.on_message(TOPICS.cmd(VEN), command("ping", "p-1"))
    assert not out.sent
    await wait_for(lambda: out.on(TOPICS.ack(VEN)), timeout=5, message="delayed ack never published")


async def test_a_link_that_is_down_counts_publish_errors() -> None:
    sim, _ = simulator(up=False)
    sim.on_message(TOPICS.cmd(VEN), command("ping", "p-1"))
    assert sim.stats.publish_errors == 1 and sim.stats.acks_sent == 0


@pytest.mark.parametrize(
    ("setting", "extra"),
    [
        ("none", []),
        ("oadr", ["r/oadr/meter/ven-001"]),
        ("telemetry", ["r/ven/telemetry/ven-001"]),
        ("both", ["r/oadr/meter/ven-001", "r/ven/telemetry/ven-001"]),
    ],
)
async def test_a_reading_is_the_same_bytes_on_every_topic(setting: str, extra: list[str]) -> None:
    sim, out = simulator(per_ven_topics=setting)
    sim.report(sim.by_id[VEN], T0)
    assert [t for t, _, _ in out.sent] == [TOPICS.metering, *extra]
    assert len({p for _, p, _ in out.sent}) == 1
    reading = normalize_telemetry(decode_object(out.sent[0][1]))
    assert reading.venId == VEN and reading.timestamp.timestamp() == int(T0)
    assert sim.stats.telemetry_sent == 1


async def test_malformed_readings_replace_good_ones() -> None:
    sim, out = simulator(Faults(malformed_rate=1.0))
    sim.report(sim.by_id[VEN], T0)
    assert len(out.sent) == 1 and sim.stats.telemetry_malformed == 1 and sim.stats.telemetry_sent == 0


async def test_an_event_expires_by_itself() -> None:
    sim, out = simulator()
    sim.on_message(TOPICS.cmd(VEN), event(start=T0, duration_s=60))
    sim.report(sim.by_id[VEN], T0 + 30)
    sim.report(sim.by_id[VEN], T0 + 61)
    readings = out.on(TOPICS.metering)
    assert [r["eventId"] for r in readings] == ["evt-1", None]
    assert sim.stats.events_expired == 1 and sim.vens[VEN].event is None


async def test_reports_show_each_vens_latest_published_reading() -> None:
    sim, out = simulator()
    assert sim.reports() == {}  # nothing published yet
    sim.on_message(TOPICS.cmd(VEN), event(start=T0, duration_s=60))
    sim.report(sim.by_id[VEN], T0 + 10)
    sim.report(sim.by_id["ven-002"], T0 + 11)
    sim.report(sim.by_id[VEN], T0 + 20)
    published = {r["venId"]: r for r in out.on(TOPICS.metering)}  # the last one of each VEN
    reports = sim.reports()
    assert set(reports) == {VEN, "ven-002"}
    for ven_id, report in reports.items():
        assert report == {key: published[ven_id][key] for key in report}
    assert reports[VEN]["timestamp"] == int(T0 + 20) and reports[VEN]["eventId"] == "evt-1"
    assert reports["ven-002"]["eventId"] is None and set(reports[VEN]) == {
        "timestamp",
        "eventId",
        "shedPowerKw",
        "usedPowerKw",
        "baselinePowerKw",
    }


async def test_a_reading_that_could_not_be_published_is_not_reported() -> None:
    sim, _ = simulator(up=False)
    sim.report(sim.by_id[VEN], T0)
    assert sim.reports() == {} and sim.stats.publish_errors == 1


async def test_telemetry_loop_reports_every_online_ven_each_interval() -> None:
    sim, out = simulator(interval_s=0.2)
    task = asyncio.create_task(sim.run_telemetry())
    try:
        await wait_for(lambda: sim.stats.telemetry_sent >= 6, timeout=10, message="telemetry loop stalled")
    finally:
        task.cancel()
    ven_ids = [r["venId"] for r in out.on(TOPICS.metering)]
    assert ven_ids.count(VEN) >= 2 and ven_ids.count("ven-002") >= 2
    assert sim.running and sim.stats.lateness.total == sim.stats.telemetry_sent


async def test_a_shorter_interval_brings_the_next_reading_forward() -> None:
    sim, _ = simulator(interval_s=60)
    node = sim.by_id[VEN]
    sim.schedule.set(node, asyncio.get_running_loop().time() + 60)
    sim.on_message(TOPICS.cmd(VEN), command("setConfig", "s-1", {"report_interval_seconds": 1}))
    assert node.due <= asyncio.get_running_loop().time() + 1


async def test_a_bug_while_handling_is_counted_and_the_ven_keeps_answering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, out = simulator()
    real = simulator_module.handle_command
    monkeypatch.setattr(simulator_module, "handle_command", lambda *a, **k: 1 / 0)
    sim.on_message(TOPICS.cmd(VEN), command("ping", "p-1"))
    monkeypatch.setattr(simulator_module, "handle_command", real)
    sim.on_message(TOPICS.cmd(VEN), command("ping", "p-2"))
    assert sim.stats.internal_errors == 1 and [a["correlationId"] for a in out.on(TOPICS.ack(VEN))] == ["p-2"]
