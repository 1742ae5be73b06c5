"""The projector's rule for a record: a fact, poison (Rejected, dead-lettered) or a bug (raised)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka.structs import ConsumerRecord
from hypothesis import given
from hypothesis import strategies as st

from dr_contracts.facts import (
    FACT_TYPES,
    Fact,
    PayloadRejected,
    VenRegistered,
    decode_fact,
    encode_fact,
    new_fact,
)
from dr_contracts.rejection import Rejected
from dr_contracts.topics import MqttTopics
from ingest.domain import readings
from ingest.domain.intake import intake
from ingest.domain.readings import Reading
from ingest.service import projector
from ingest.service.projector import dead_letter, decode
from tests import samples

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def telemetry_fact() -> dict[str, Any]:
    """A TelemetryReported exactly as the bridge produces it."""
    fact = intake("volttron/metering", samples.dumps(samples.telemetry("ven-1")), NOW, MqttTopics(""))
    return orjson.loads(encode_fact(fact))


def registered() -> dict[str, Any]:
    return orjson.loads(encode_fact(new_fact(VenRegistered(venId="ven-1", name="One"))))


def refusal(value: bytes) -> Rejected:
    with pytest.raises(Rejected) as caught:
        decode(value)
    return caught.value


def test_telemetry_is_read_the_quick_way_and_other_facts_by_model() -> None:
    reading = decode(orjson.dumps(telemetry_fact()))
    assert isinstance(reading, Reading) and reading.ven_id == "ven-1"
    fact = decode(orjson.dumps(registered()))
    assert isinstance(fact, Fact) and fact.payload == VenRegistered(venId="ven-1", name="One")


@pytest.mark.parametrize(
    ("value", "code", "field"),
    [
        (b"", "invalid_json", None),
        (b"\xff\xfe not text", "invalid_json", None),
        (b'{"type": "VenRegistered"', "invalid_json", None),
        (b"[1, 2]", "not_object", None),
        (b'"TelemetryReported"', "not_object", None),
        (b"{}", "unknown_fact_type", "type"),
        (b'{"type": "VenRenamed"}', "unknown_fact_type", "type"),
        (b'{"type": ["VenRegistered"]}', "unknown_fact_type", "type"),
        (b'{"type": {"a": 1}}', "unknown_fact_type", "type"),
    ],
)
def test_bytes_that_are_no_fact_are_poison(value: bytes, code: str, field: str | None) -> None:
    rejection = refusal(value)
    assert (rejection.code, rejection.field) == (code, field), rejection


@pytest.mark.parametrize("make", [registered, telemetry_fact])
@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_a_schema_version_this_code_does_not_know_is_poison(make: Any, version: object) -> None:
    rejection = refusal(orjson.dumps(make() | {"schemaVersion": version}))
    assert (rejection.code, rejection.field) == ("unknown_schema_version", "schemaVersion")


def test_a_fact_without_a_schema_version_is_the_current_one() -> None:
    fact = registered()
    del fact["schemaVersion"]
    assert isinstance(decode(orjson.dumps(fact)), Fact)


def test_telemetry_the_model_refuses_is_poison_with_the_models_reason() -> None:
    fact = telemetry_fact()
    del fact["payload"]["reading"]["usedPowerKw"]
    rejection = refusal(orjson.dumps(fact))
    assert (rejection.code, rejection.field) == ("missing_field", "reading.usedPowerKw")


def test_other_facts_the_model_refuses_are_poison() -> None:
    fact = registered()
    fact["payload"]["name"] = ""
    rejection = refusal(orjson.dumps(fact))
    assert (rejection.code, rejection.field) == ("too_short", "name")


def test_the_reader_failing_on_a_fact_the_model_accepts_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fact: dict[str, Any]) -> Reading:
        raise KeyError("a bug in the reader")

    monkeypatch.setattr(projector, "reading_of", broken)
    monkeypatch.setattr(readings, "reading_of", broken)  # reading_from's, on the canonical form
    with pytest.raises(KeyError, match="a bug in the reader"):
        decode(orjson.dumps(telemetry_fact()))


def test_telemetry_in_a_form_the_bridge_never_writes_is_read_from_the_models_form() -> None:
    fact = telemetry_fact()
    fact["payload"]["reading"]["baselinePowerKw"] = True  # lax: the model takes it for 1.0
    reading = decode(orjson.dumps(fact))
    assert isinstance(reading, Reading) and reading.baseline_power_kw == 1.0


@given(st.binary(max_size=200))
def test_any_bytes_are_a_fact_or_poison(value: bytes) -> None:
    try:
        decode(value)
    except Rejected:
        pass


@given(st.sampled_from(sorted(FACT_TYPES)), json_values, st.dictionaries(st.text(max_size=12), json_values))
def test_any_envelope_of_a_known_type_is_a_fact_or_poison(kind: str, payload: object, extra: dict) -> None:
    try:
        decode(json.dumps(extra | {"type": kind, "payload": payload}).encode())
    except Rejected:
        pass


@given(st.sampled_from(sorted(telemetry_fact()["payload"]["reading"])), json_values)
def test_telemetry_with_any_field_changed_is_read_or_poison_never_a_bug(field: str, value: object) -> None:
    """A reading the model accepts but the reader cannot read would stop the projector."""
    fact = telemetry_fact()
    fact["payload"]["reading"][field] = value
    try:
        decode(json.dumps(fact).encode())
    except Rejected:
        pass


def record(value: bytes | None, offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord("dr.events", 2, offset, 1_767_225_600_000, 0, None, value, None, 0, 0, [])


def test_a_dead_letter_says_where_the_record_was_why_and_what_it_held() -> None:
    rec = record(b"not a fact")
    letter = dead_letter(rec, refusal(b"not a fact"))
    assert decode_fact(encode_fact(letter)) == letter  # the projector reads it back as a fact
    payload = letter.payload
    assert isinstance(payload, PayloadRejected)
    assert (payload.mqttTopic, payload.code, payload.sizeBytes) == ("kafka:dr.events/2:7", "invalid_json", 10)
    assert payload.reason.startswith("invalid_json: fact is not JSON")
    assert base64.b64decode(payload.rawB64) == b"not a fact"
    assert payload.receivedAt == NOW  # the record's own timestamp: the same letter every time


def test_a_dead_letter_has_the_same_id_for_the_same_record_only() -> None:
    rejection = refusal(b"[]")
    first = dead_letter(record(b"[]"), rejection)
    assert dead_letter(record(b"[]"), rejection) == first  # redelivered: absorbed downstream
    assert dead_letter(record(b"[]", offset=8), rejection).factId != first.factId
    assert dead_letter(record(b"[ ]"), rejection).factId != first.factId


def test_a_dead_letter_of_a_record_without_value_or_with_a_huge_reason_stays_small() -> None:
    letter = dead_letter(record(None), Rejected("invalid_json", "x" * 100_000, "f" * 1000))
    payload = letter.payload
    assert isinstance(payload, PayloadRejected)
    assert (payload.sizeBytes, payload.rawB64) == (0, "")
    assert len(payload.reason) < 1300 and payload.field is not None and len(payload.field) == 200
