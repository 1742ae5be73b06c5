"""Malformed input is refused with a specific reason: which field and what was wrong."""

from datetime import UTC, datetime
from typing import Any

import pytest

from dr_contracts import jsonio
from dr_contracts.acks import normalize_ack
from dr_contracts.commands import parse_command
from dr_contracts.facts import decode_fact
from dr_contracts.rejection import Rejected, decode_object
from dr_contracts.telemetry import normalize_telemetry
from tests import samples as ex

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _telemetry(raw: bytes, topic_ven: str | None = None) -> Any:
    return normalize_telemetry(decode_object(raw), topic_ven)


def _ack(raw: bytes, topic_ven: str | None = "ven-1") -> Any:
    return normalize_ack(decode_object(raw), topic_ven, NOW)


def _j(obj: Any) -> bytes:
    return jsonio.dumps(obj)


TEL = ex.TELEMETRY
# (name, parse, raw bytes, expected code, expected field)
CASES = [
    ("too large", _telemetry, b"{" + b" " * (128 * 1024) + b"}", "too_large", None),
    ("empty", _telemetry, b"", "empty", None),
    ("invalid utf-8", _telemetry, b'{"venId": "\xff\xfe"}', "invalid_utf8", None),
    ("not json", _telemetry, b"hello", "invalid_json", None),
    ("truncated json", _telemetry, b'{"venId": "v1", ', "invalid_json", None),
    ("NaN", _telemetry, b'{"venId": "v1", "usedPowerKw": NaN}', "not_finite", None),
    ("Infinity", _telemetry, b'{"venId": "v1", "usedPowerKw": Infinity}', "not_finite", None),
    ("array", _telemetry, b"[1, 2]", "not_object", None),
    ("string", _telemetry, b'"hi"', "not_object", None),
    (
        "no venId anywhere",
        _telemetry,
        _j({k: v for k, v in TEL.items() if k != "venId"}),
        "missing_ven_id",
        "venId",
    ),
    ("venId differs from topic", lambda r: _telemetry(r, "ven-x"), _j(TEL), "ven_id_mismatch", "venId"),
    ("venId with wildcard", _telemetry, _j(TEL | {"venId": "ven/#"}), "invalid_value", "venId"),
    (
        "no timestamp",
        _telemetry,
        _j({k: v for k, v in TEL.items() if k not in ("timestamp", "ts")}),
        "missing_field",
        "timestamp",
    ),
    (
        "no power",
        _telemetry,
        _j({k: v for k, v in TEL.items() if k not in ("usedPowerKw", "power_kw")}),
        "missing_field",
        "usedPowerKw",
    ),
    ("power as string", _telemetry, _j(TEL | {"usedPowerKw": "2.7"}), "wrong_type", "usedPowerKw"),
    ("power as bool", _telemetry, _j(TEL | {"usedPowerKw": True}), "wrong_type", "usedPowerKw"),
    ("absurd power", _telemetry, _j(TEL | {"usedPowerKw": 1e12}), "out_of_range", "usedPowerKw"),
    ("timestamp in ms", _telemetry, _j(TEL | {"timestamp": 1700000000000}), "out_of_range", "timestamp"),
    (
        "timestamp not a time",
        _telemetry,
        _j(TEL | {"timestamp": "yesterday"}),
        "invalid_timestamp",
        "timestamp",
    ),
    ("timestamp as object", _telemetry, _j(TEL | {"timestamp": {}}), "wrong_type", "timestamp"),
    ("soc above 100%", _telemetry, _j(TEL | {"batterySoc": 140}), "out_of_range", "batterySoc"),
    ("loads not a list", _telemetry, _j(TEL | {"loads": {"a": 1}}), "wrong_type", "loads"),
    (
        "load without id",
        _telemetry,
        _j(TEL | {"loads": [{"name": "HVAC"}]}),
        "missing_field",
        "loads.0.loadId",
    ),
    ("load item not an object", _telemetry, _j(TEL | {"loads": [3]}), "wrong_type", "loads.0"),
    ("ack without op", _ack, _j({"status": "success", "correlationId": "c"}), "missing_field", "op"),
    ("ack without outcome", _ack, _j({"op": "ping", "correlationId": "c"}), "missing_field", "status"),
    ("ack with unknown status", _ack, _j({"op": "ping", "status": "maybe"}), "invalid_value", "status"),
    ("ack ok not bool", _ack, _j({"op": "ping", "ok": "yes"}), "wrong_type", "ok"),
    (
        "ack ok contradicts status",
        _ack,
        _j({"op": "ping", "ok": True, "status": "failed"}),
        "outcome_conflict",
        "ok",
    ),
    ("ack data not object", _ack, _j({"op": "ping", "ok": True, "data": [1]}), "wrong_type", "data"),
    (
        "ack circuits malformed",
        _ack,
        _j(ex.ACK_B | {"circuits_curtailed": [{"name": "x"}]}),
        "missing_field",
        "circuitsCurtailed.0.loadId",
    ),
    (
        "command unknown op",
        lambda r: parse_command(decode_object(r)),
        _j({"op": "explode", "correlationId": "c"}),
        "unknown_op",
        "op",
    ),
    (
        "command without correlationId",
        lambda r: parse_command(decode_object(r)),
        _j({"op": "ping"}),
        "missing_field",
        "correlationId",
    ),
    (
        "event without shed",
        lambda r: parse_command(decode_object(r)),
        _j({"op": "event", "correlationId": "c", "duration_sec": 5}),
        "missing_field",
        "shed_kw",
    ),
    (
        "setLoad without loadId",
        lambda r: parse_command(decode_object(r)),
        _j({"op": "setLoad", "correlationId": "c", "data": {}}),
        "missing_field",
        "data.loadId",
    ),
    (
        "get of unknown thing",
        lambda r: parse_command(decode_object(r)),
        _j({"op": "get", "correlationId": "c", "data": {"what": "secrets"}}),
        "invalid_value",
        "data.what",
    ),
    ("unknown fact type", decode_fact, _j({"type": "Nope", "payload": {}}), "unknown_fact_type", "type"),
]


@pytest.mark.parametrize(("name", "parse", "raw", "code", "field"), CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_rejected_with_its_own_reason(name, parse, raw, code, field) -> None:
    with pytest.raises(Rejected) as caught:
        parse(raw)
    assert (caught.value.code, caught.value.field) == (code, field), caught.value.reason
    assert caught.value.message  # a person can read why


def test_every_case_has_a_distinct_reason() -> None:
    reasons = set()
    for _, parse, raw, _, _ in CASES:
        with pytest.raises(Rejected) as caught:
            parse(raw)
        reasons.add(caught.value.reason)
    assert len(reasons) == len(CASES)
