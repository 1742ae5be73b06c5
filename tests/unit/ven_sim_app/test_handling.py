"""Every op of docs/contract.md §2, idempotency by correlationId, and rejections."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dr_contracts import jsonio
from dr_contracts.acks import normalize_ack
from tests.unit.ven_sim_app.helpers import T0, VEN, command, event, node, restore
from ven_sim.handling import SIMULATED_REJECTION, handle_command

pytestmark = pytest.mark.unit

RECEIVED = datetime.fromtimestamp(T0, UTC)


def normalized(ack: dict, ven_id: str = VEN):
    """What ingest will make of the ack: it must accept every one the simulator sends."""
    return normalize_ack(jsonio.loads(jsonio.dumps(ack)), ven_id, RECEIVED)


@pytest.mark.parametrize("shape", ["A", "B", "C"])
@pytest.mark.parametrize("op", ["event", "shedPanel"])
def test_event_is_applied_and_acked_in_the_ven_shape(shape: str, op: str) -> None:
    ven = node(shape)
    raw = jsonio.loads(event(shed_kw=2.0))
    out = handle_command(ven, jsonio.dumps(raw | {"op": op}), T0)
    ack = normalized(out.ack)
    assert out.applied and not out.rejected
    assert ack.shape == shape and ack.ok and ack.status == "accepted" and ack.op == op
    assert ack.correlationId == "evt-1-ven-001-shed" and ack.eventId == "evt-1"
    assert ack.requestedShedKw == 2.0
    assert ack.actualShedKw == pytest.approx(2.0, abs=1e-3)
    assert ack.circuitsCurtailed and sum(c.curtailedKw or 0 for c in ack.circuitsCurtailed) == pytest.approx(
        2.0
    )
    assert ven.sim.event is not None and ven.sim.event.end_ts == T0 + 600


def test_event_uses_end_ts_and_legacy_duration_fallbacks() -> None:
    ven = node()
    legacy = {
        "op": "event",
        "correlationId": "c-legacy",
        "venId": VEN,
        "event_id": "evt-9",
        "shed_kw": 1.0,
        "duration_sec": 120,
    }
    assert handle_command(ven, jsonio.dumps(legacy), T0).applied
    assert ven.sim.event is not None and ven.sim.event.end_ts == T0 + 120


def test_same_correlation_id_answers_the_first_ack_and_applies_nothing() -> None:
    ven = node()
    first = handle_command(ven, event(), T0)
    handle_command(ven, restore(), T0 + 10)
    again = handle_command(ven, event(), T0 + 20)
    assert again.replayed and not again.applied
    assert again.ack == first.ack  # same bytes, same ts: the first ack
    assert ven.sim.event is None  # the re-sent event was not applied after the restore


def test_a_rejection_is_replayed_too() -> None:
    ven = node()
    first = handle_command(
        ven, command("shedLoad", "c-1", {"loadId": "nope", "reduceKw": 1, "durationS": 60}), T0
    )
    again = handle_command(
        ven, command("shedLoad", "c-1", {"loadId": "hvac1", "reduceKw": 1, "durationS": 60}), T0
    )
    assert first.rejected and again.replayed and again.ack == first.ack
    assert not ven.sim.overrides


def test_restore_gives_the_loads_back() -> None:
    ven = node("B")
    handle_command(ven, event(), T0)
    out = handle_command(ven, restore(), T0 + 30)
    ack = normalized(out.ack)
    assert out.applied and ack.status == "success" and ack.eventId == "evt-1"
    assert ven.sim.event is None


def test_ping_answers_pong() -> None:
    ack = normalized(handle_command(node("C"), command("ping", "p-1"), T0).ack)
    assert ack.ok and ack.pong is True and ack.op == "ping"


def test_shed_load_caps_one_circuit() -> None:
    ven = node()
    out = handle_command(
        ven, command("shedLoad", "s-1", {"loadId": "hvac1", "reduceKw": 0.5, "durationS": 60}), T0
    )
    ack = normalized(out.ack)
    assert out.applied and ack.requestedShedKw == 0.5
    assert ack.actualShedKw is not None and 0 < ack.actualShedKw <= 0.5
    assert [c.loadId for c in ack.circuitsCurtailed] == ["hvac1"]
    assert "hvac1" in ven.sim.overrides


def test_set_load_changes_the_circuit() -> None:
    ven = node()
    out = handle_command(
        ven, command("setLoad", "l-1", {"loadId": "hvac1", "enabled": False, "priority": 3}), T0
    )
    ack = normalized(out.ack)
    assert out.applied and ack.data["load"]["enabled"] is False and ack.data["load"]["priority"] == 3
    assert ven.sim.panel.circuit("hvac1").enabled is False


@pytest.mark.parametrize("what", ["status", "config", "loads"])
def test_get_answers_with_the_asked_data(what: str) -> None:
    ven = node()
    handle_command(ven, event(), T0)
    ack = normalized(handle_command(ven, command("get", f"g-{what}", {"what": what}), T0 + 1).ack)
    assert ack.ok and set(ack.data) == {what}
    expected = {
        "status": lambda d: d["eventId"] == "evt-1",
        "config": lambda d: d["venId"] == VEN,
        "loads": lambda d: {x["loadId"] for x in d} >= {"hvac1"},
    }
    assert expected[what](ack.data[what])


@pytest.mark.parametrize("op", ["set", "setConfig"])
def test_set_config_changes_the_report_interval(op: str) -> None:
    ven = node()
    out = handle_command(ven, command(op, f"{op}-1", {"report_interval_seconds": 15}), T0)
    assert out.applied and normalized(out.ack).data["config"]["report_interval_seconds"] == 15
    assert ven.sim.report_interval_seconds == 15


@pytest.mark.parametrize(
    "data", [{"target_power_kw": 4.0}, {"report_interval_seconds": 15, "target_power_kw": 4.0}]
)
def test_set_config_with_a_power_target_is_rejected_whole(data: dict) -> None:
    ven = node()
    out = handle_command(ven, command("setConfig", "cfg-1", data), T0)
    ack = normalized(out.ack)
    assert out.rejected and not out.applied
    assert ack.ok is False and ack.status == "rejected" and ack.correlationId == "cfg-1"
    assert ack.reason is not None and ack.reason.startswith("target_power_kw: not supported")
    assert ven.sim.report_interval_seconds == 5.0


@pytest.mark.parametrize(
    ("raw", "cid", "reason"),
    [
        (b"{not json", None, "invalid_json"),
        (b"[1, 2]", None, "not_object"),
        (b"", None, "empty"),
        (b'{"op": "reboot", "correlationId": "r-1"}', "r-1", "unknown_op"),
        (b'{"correlationId": "r-2"}', "r-2", "missing_field"),
        (b'{"op": "event", "correlationId": "r-3", "venId": "ven-001", "event_id": "e"}', "r-3", "shed_kw"),
        (b'{"op": "ping", "correlationId": "r-4", "venId": "ven-002"}', "r-4", "ven_id_mismatch"),
        (b'{"op": "get", "correlationId": "r-5", "data": {"what": "secrets"}}', "r-5", "data.what"),
        (b'{"op": "event", "correlationId": "r-6", "shed_kw": 1, "duration_sec": 60}', "r-6", "event_id"),
        (
            jsonio.dumps(
                {
                    "op": "event",
                    "correlationId": "r-7",
                    "event_id": "e" * 300,
                    "shed_kw": 1,
                    "duration_sec": 60,
                }
            ),
            "r-7",
            "too_long",
        ),
    ],
)
def test_unreadable_commands_get_a_rejected_ack_with_the_reason(
    raw: bytes, cid: str | None, reason: str
) -> None:
    ven = node("B")
    out = handle_command(ven, raw, T0)
    ack = normalized(out.ack)
    assert out.rejected and not out.applied
    assert ack.status == "rejected" and not ack.ok and ack.correlationId == cid
    assert ack.reason is not None and reason in ack.reason
    assert ven.sim.event is None


def test_domain_refusals_are_rejected_acks() -> None:
    ven = node()
    past = event(cid="old", start=T0 - 3600, duration_s=60)  # ended an hour ago
    out = handle_command(ven, past, T0)
    assert out.rejected and not out.malformed and "end_ts" in normalized(out.ack).reason


def test_injected_rejection_is_not_applied() -> None:
    ven = node()
    out = handle_command(ven, event(), T0, refuse=lambda: True)
    assert out.rejected and normalized(out.ack).reason == SIMULATED_REJECTION
    assert ven.sim.event is None
