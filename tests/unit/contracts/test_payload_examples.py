"""Every example of docs/contract.md parses to the canonical model the platform relies on."""

from datetime import UTC, datetime

import pytest

from dr_contracts import jsonio
from dr_contracts.acks import ack_payload, normalize_ack
from dr_contracts.commands import command_data, event_command, parse_command, restore_command
from dr_contracts.ids import correlation_id
from dr_contracts.rejection import decode_object
from dr_contracts.telemetry import normalize_telemetry
from tests import samples as ex

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_event_command_builder_matches_the_contract_example() -> None:
    built = event_command(
        ven_id="ven-001",
        event_id="evt-7f3a9c21",
        correlation_id=correlation_id("evt-7f3a9c21", "ven-001", "event"),
        shed_kw=5.0,
        start=datetime.fromtimestamp(1760997600, UTC),
        end=datetime.fromtimestamp(1761001200, UTC),
    )
    assert built == ex.EVENT_COMMAND


@pytest.mark.parametrize(
    "variant",
    [
        ex.EVENT_COMMAND,
        {
            "op": "shedPanel",
            "correlationId": "c1",
            "data": {"event_id": "evt-7f3a9c21", "requestedReductionKw": 5.0, "duration_s": 3600},
        },
        {
            "op": "event",
            "correlationId": "c2",
            "requestedReductionKw": 5.0,
            "duration_s": 3600,
            "data": {"event_id": "evt-7f3a9c21"},
        },
    ],
)
def test_firmware_reads_shed_duration_and_event_id_with_its_fallbacks(variant: dict) -> None:
    command = parse_command(variant)
    assert (command.shedKw, command.durationS, command.eventId) == (5.0, 3600, "evt-7f3a9c21")


def test_flat_fields_win_over_data_like_deployed_firmware() -> None:
    body = ex.EVENT_COMMAND | {"shed_kw": 7.0}
    assert parse_command(body).shedKw == 7.0


def test_restore_and_typed_data_commands() -> None:
    restore = parse_command(restore_command(ven_id="v1", event_id="evt-1", correlation_id="evt-1-v1-restore"))
    assert (restore.op, restore.eventId) == ("restore", "evt-1")
    shed = parse_command(
        {"op": "shedLoad", "correlationId": "c", "data": {"loadId": "ev1", "reduceKw": 2.0, "durationS": 60}}
    )
    assert command_data(shed).loadId == "ev1"  # type: ignore[union-attr]


def test_correlation_id_is_stable_per_event_ven_and_op() -> None:
    assert correlation_id("evt-1", "ven-1", "event") == correlation_id("evt-1", "ven-1", "shedPanel")
    assert correlation_id("evt-1", "ven-1", "event") != correlation_id("evt-1", "ven-1", "restore")


def test_ack_shape_a_envelope() -> None:
    ack = normalize_ack(ex.ACK_A, "ven-123", NOW)
    assert (ack.shape, ack.ok, ack.status, ack.actualShedKw, ack.correlationId) == (
        "A",
        True,
        "success",
        5.0,
        "abc123",
    )
    assert ack.ts == datetime.fromtimestamp(1700000000, UTC)


def test_ack_shape_b_takes_ven_id_from_topic_and_long_circuits() -> None:
    ack = normalize_ack(ex.ACK_B, "ven-9", NOW)
    assert (ack.shape, ack.venId, ack.eventId, ack.requestedShedKw, ack.actualShedKw) == (
        "B",
        "ven-9",
        "evt-123",
        5.0,
        4.8,
    )
    circuit = ack.circuitsCurtailed[0]
    assert (
        circuit.loadId,
        circuit.breakerAmps,
        circuit.originalKw,
        circuit.curtailedKw,
        circuit.finalKw,
    ) == ("ev1", 50, 8.5, 8.5, 0.0)


def test_ack_shape_c_camel_case_short_circuits() -> None:
    ack = normalize_ack(ex.ACK_C, "ven-9", NOW)
    assert (ack.shape, ack.eventId, ack.actualShedKw) == ("C", "evt-123", 3.5)
    assert ack.circuitsCurtailed[0].loadId == "circuit_3"
    assert ack.circuitsCurtailed[0].curtailedKw == 3.5


def test_restore_and_ping_acks() -> None:
    assert normalize_ack(ex.ACK_RESTORE, "v", NOW).ok is True
    assert normalize_ack(ex.ACK_PING, "v", NOW).pong is True


def test_ack_without_ts_is_stamped_with_the_receive_time() -> None:
    body = {k: v for k, v in ex.ACK_RESTORE.items() if k != "ts"}
    assert normalize_ack(body, "v", NOW).ts == NOW


@pytest.mark.parametrize("status", ["rejected", "failed", "error"])
def test_failure_statuses_are_not_ok(status: str) -> None:
    assert normalize_ack(ex.ACK_RESTORE | {"status": status}, "v", NOW).ok is False


@pytest.mark.parametrize("example", [ex.ACK_A, ex.ACK_B, ex.ACK_C, ex.ACK_RESTORE, ex.ACK_PING])
def test_ack_rendered_in_its_shape_normalizes_back_to_the_same_ack(example: dict) -> None:
    ack = normalize_ack(example, "ven-123", NOW)
    assert normalize_ack(ack_payload(ack), "ven-123", NOW) == ack


def test_telemetry_example_is_canonical_and_keeps_everything() -> None:
    reading = normalize_telemetry(decode_object(jsonio.dumps(ex.TELEMETRY)), None)
    assert (reading.venId, reading.usedPowerKw, reading.shedPowerKw, reading.eventId) == (
        "ven-123",
        2.73,
        0.62,
        "evt-9",
    )
    assert reading.timestamp == datetime.fromtimestamp(1700000000, UTC)
    assert reading.loads[0].loadId == "hvac1" and reading.loads[0].priority == 1
    assert reading.extras == {}
    assert reading.to_wire() == ex.TELEMETRY


def test_legacy_telemetry_maps_old_keys_and_keeps_extras() -> None:
    reading = normalize_telemetry(ex.LEGACY_TELEMETRY, None)
    assert (reading.usedPowerKw, reading.baselinePowerKw, reading.eventId) == (4.1, 4.0, None)
    assert reading.batterySoc == pytest.approx(0.54)
    assert reading.loads[0].loadId == "pv1" and reading.loads[0].currentPowerKw == -2.5
    assert reading.extras == {"firmware": "1.2.3"}


def test_telemetry_on_a_per_ven_topic_may_omit_ven_id() -> None:
    body = {k: v for k, v in ex.TELEMETRY.items() if k != "venId"}
    assert normalize_telemetry(body, "ven-77").venId == "ven-77"


def test_same_reading_on_two_topics_has_the_same_identity() -> None:

    a = normalize_telemetry(ex.TELEMETRY, None)
    b = normalize_telemetry(ex.TELEMETRY, "ven-123")
    assert (a.venId, a.timestamp) == (b.venId, b.timestamp)
