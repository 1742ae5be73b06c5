"""The bridge's decision for one MQTT message: which fact, with what in it, or why not."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dr_contracts.facts import AckReceived, PayloadRejected, TelemetryReported, decode_fact, encode_fact
from dr_contracts.topics import MqttTopics
from ingest.domain.intake import intake
from tests import samples

pytestmark = pytest.mark.unit

TOPICS = MqttTopics("")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
KIND_TOPICS = {
    "metering": TOPICS.metering,
    "oadr": TOPICS.oadr_meter("ven-1"),
    "ack": TOPICS.ack("ven-1"),
    "bare-ack": "ven/ack/",
}


def accept(topic: str, payload: dict) -> object:
    fact = intake(topic, samples.dumps(payload), NOW, TOPICS)
    assert not isinstance(fact.payload, PayloadRejected), fact.payload
    assert decode_fact(encode_fact(fact)) == fact  # what the bridge produces, the projector reads
    return fact


def test_ack_shape_a_keeps_its_venid_and_shed_amount() -> None:
    fact = accept(TOPICS.ack("ven-123"), samples.ack_a())
    assert isinstance(fact.payload, AckReceived)
    ack = fact.payload.ack
    assert (ack.shape, ack.venId, ack.ok, ack.status, ack.actualShedKw) == (
        "A",
        "ven-123",
        True,
        "success",
        5.0,
    )
    assert fact.key == "ven-123"


def test_ack_shape_b_takes_venid_from_topic_and_long_circuits() -> None:
    fact = accept(TOPICS.ack("ven-7"), samples.ack_b())
    ack = fact.payload.ack
    assert (ack.shape, ack.venId, ack.eventId, ack.requestedShedKw, ack.actualShedKw) == (
        "B",
        "ven-7",
        "evt-123",
        5.0,
        4.8,
    )
    circuit = ack.circuitsCurtailed[0]
    assert (circuit.loadId, circuit.breakerAmps, circuit.curtailedKw, circuit.critical) == (
        "ev1",
        50,
        8.5,
        False,
    )
    assert fact.payload.raw == samples.ack_b()


def test_ack_shape_c_reads_camel_case_and_short_circuits() -> None:
    ack = accept(TOPICS.ack("ven-8"), samples.ack_c()).payload.ack
    assert (ack.shape, ack.eventId, ack.actualShedKw, ack.status) == ("C", "evt-9", 3.5, "completed")
    assert [(c.loadId, c.curtailedKw) for c in ack.circuitsCurtailed] == [("circuit_3", 3.5)]


def test_full_telemetry_is_normalized() -> None:
    fact = accept(TOPICS.metering, samples.telemetry())
    assert isinstance(fact.payload, TelemetryReported)
    reading = fact.payload.reading
    assert (reading.venId, reading.usedPowerKw, reading.eventId, len(reading.loads)) == (
        "ven-123",
        2.73,
        "evt-9",
        3,
    )
    assert reading.timestamp == datetime.fromtimestamp(samples.TS, UTC)
    assert fact.payload.mqttTopic == TOPICS.metering


def test_legacy_telemetry_takes_venid_from_topic() -> None:
    payload = samples.legacy_telemetry(ven_id=None)
    reading = accept(TOPICS.oadr_meter("ven-old"), payload).payload.reading
    assert (reading.venId, reading.usedPowerKw, reading.shedPowerKw, reading.baselinePowerKw) == (
        "ven-old",
        1.5,
        0.25,
        2.0,
    )
    assert reading.batterySoc == pytest.approx(0.8)
    assert reading.loads[0].loadId == "wh1"
    assert reading.extras == {"firmware": "2.1.0"}


def test_same_reading_on_two_topics_gets_one_fact_id() -> None:
    first = accept(TOPICS.metering, samples.telemetry("ven-9"))
    second = accept(TOPICS.telemetry("ven-9"), samples.telemetry("ven-9"))
    assert first.factId == second.factId
    assert first.factId != accept(TOPICS.metering, samples.telemetry("ven-9", ts=samples.TS + 5)).factId


def test_a_redelivered_ack_gets_the_same_fact_id() -> None:
    raw = samples.dumps(samples.ack_b())
    first = intake(TOPICS.ack("ven-1"), raw, NOW, TOPICS)
    again = intake(TOPICS.ack("ven-1"), raw, datetime(2026, 1, 2, tzinfo=UTC), TOPICS)
    assert first.factId == again.factId
    assert first.factId != intake(TOPICS.ack("ven-2"), raw, NOW, TOPICS).factId


def test_a_redelivered_bad_payload_gets_the_same_fact_id() -> None:
    first = intake(TOPICS.metering, b"garbage", NOW, TOPICS)
    again = intake(TOPICS.metering, b"garbage", datetime(2026, 1, 2, tzinfo=UTC), TOPICS)
    assert isinstance(first.payload, PayloadRejected)
    assert first.factId == again.factId
    assert first.factId != intake(TOPICS.metering, b"garbage!", NOW, TOPICS).factId
    assert first.factId != intake(TOPICS.ack("ven-1"), b"garbage", NOW, TOPICS).factId


@pytest.mark.parametrize(
    ("name", "kind", "raw", "code", "field"), samples.MALFORMED, ids=[m[0] for m in samples.MALFORMED]
)
def test_malformed_payload_is_rejected_with_its_reason(
    name: str, kind: str, raw: bytes, code: str, field: str | None
) -> None:
    fact = intake(KIND_TOPICS[kind], raw, NOW, TOPICS)
    rejected = fact.payload
    assert isinstance(rejected, PayloadRejected)
    assert (rejected.code, rejected.field) == (code, field), rejected.reason
    assert rejected.mqttTopic == KIND_TOPICS[kind]
    assert base64.b64decode(rejected.rawB64) == raw[: 128 * 1024]
    assert rejected.sizeBytes == len(raw)
    assert fact.key == KIND_TOPICS[kind]


def test_malformed_cases_have_distinct_reasons() -> None:
    reasons = [
        intake(KIND_TOPICS[k], raw, NOW, TOPICS).payload.reason for _, k, raw, _, _ in samples.MALFORMED
    ]
    assert len(set(reasons)) == len(reasons) >= 20


@given(st.binary(max_size=300), st.sampled_from(sorted(KIND_TOPICS.values())))
def test_intake_never_raises(raw: bytes, topic: str) -> None:
    fact = intake(topic, raw, NOW, TOPICS)
    assert decode_fact(encode_fact(fact)).factId == fact.factId


def test_a_legacy_reading_stamped_with_its_gateway_is_accepted_only_for_a_ven_it_owns() -> None:
    """The broker re-routes `volttron/metering` to `volttron/metering/<gateway>` (dr_legacy_stamp)."""
    owners = {"gw-1": frozenset({"ven-a"})}
    topic = TOPICS.metering_from("gw-1")
    assert TOPICS.classify(topic) == ("gateway_metering", "gw-1")
    ok = intake(topic, samples.dumps(samples.legacy_telemetry("ven-a")), NOW, TOPICS, owners=owners)
    assert isinstance(ok.payload, TelemetryReported) and ok.payload.venId == "ven-a"
    for payload, owner_map, reason in [
        (
            samples.legacy_telemetry("ven-b"),
            owners,
            "not_owner [venId]: gateway 'gw-1' does not speak for 'ven-b'",
        ),
        (samples.legacy_telemetry("ven-a"), {}, "unknown_gateway [topic]: gateway 'gw-1' is not in"),
    ]:
        refused = intake(topic, samples.dumps(payload), NOW, TOPICS, owners=owner_map).payload
        assert isinstance(refused, PayloadRejected) and reason in refused.reason, refused
    # The unstamped topic (a broker without the plugin: no identities) is taken as before.
    assert isinstance(
        intake(TOPICS.metering, samples.dumps(samples.legacy_telemetry("ven-b")), NOW, TOPICS).payload,
        TelemetryReported,
    )
