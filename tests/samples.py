"""Payloads as VENs send them, for every test and the benches: one home for sample data.

The constants are the examples of docs/contract.md verbatim (their home is dr_contracts.examples, which
the AsyncAPI document shows too), so tests hold the code to the contract.
The factories vary them (ids, times, extra keys) for the ingest tests and the benches;
`MALFORMED` lists broken payloads with the rejection each must get.
"""

from __future__ import annotations

from typing import Any

import orjson

from dr_contracts.examples import (  # noqa: F401 (re-exported: tests say samples.ACK_A)
    ACK_A,
    ACK_B,
    ACK_C,
    ACK_PING,
    ACK_RESTORE,
    EVENT_COMMAND,
    LEGACY_TELEMETRY,
    TELEMETRY,
)

TS = 1_700_000_000  # 2023-11-14T22:13:20Z

#: Two more loads for `telemetry()`: a generating one (negative power) and a disabled one.
SOLAR_LOAD = {
    "loadId": "pv1",
    "name": "Solar",
    "type": "pv",
    "capacityKw": 6.0,
    "currentPowerKw": -2.1,
    "shedCapabilityKw": 0.0,
    "enabled": True,
    "priority": 9,
}
DISABLED_EV_LOAD = {
    "loadId": "ev1",
    "name": "EV",
    "type": "ev",
    "capacityKw": 7.2,
    "currentPowerKw": 0.0,
    "shedCapabilityKw": 7.0,
    "enabled": False,
    "priority": 2,
}


def ack_a(ven_id: str = "ven-123", correlation_id: str = "abc123", **extra: Any) -> dict[str, Any]:
    """Shape A: the documented envelope (`ok`, venId inside)."""
    return _fresh(ACK_A) | {"venId": ven_id, "correlationId": correlation_id} | extra


def ack_b(correlation_id: str = "xyz-123", **extra: Any) -> dict[str, Any]:
    """Shape B: deployed firmware, snake_case, no venId (it comes from the topic)."""
    return _fresh(ACK_B) | {"ts": TS, "correlationId": correlation_id} | extra


def ack_c(correlation_id: str = "cam-1", **extra: Any) -> dict[str, Any]:
    """Shape C: camelCase firmware with the short circuit form, reporting a finished shed."""
    finished = {"status": "completed", "eventId": "evt-9", "requestedShedKw": 4.0, "ts": TS}
    return _fresh(ACK_C) | finished | {"correlationId": correlation_id} | extra


def telemetry(ven_id: str = "ven-123", ts: int = TS, **extra: Any) -> dict[str, Any]:
    """The full contract reading (canonical fields and the legacy duplicates), three loads."""
    loads = [*TELEMETRY["loads"], SOLAR_LOAD, DISABLED_EV_LOAD]
    return _fresh(TELEMETRY | {"venId": ven_id, "timestamp": ts, "ts": ts, "loads": loads}) | extra


def legacy_telemetry(ven_id: str | None = "ven-old", ts: int = TS) -> dict[str, Any]:
    """Old firmware: legacy keys only, `id` for loads, `batterySOC` in percent, extra keys."""
    body: dict[str, Any] = {
        "power_kw": 1.5,
        "shed_kw": 0.25,
        "base_power_kw": 2.0,
        "ts": ts,
        "active_event": None,
        "batterySOC": 80,
        "firmware": "2.1.0",
        "loads": [{"id": "wh1", "currentPowerKw": 1.2, "shedCapabilityKw": 1.0}],
    }
    if ven_id is not None:
        body["venId"] = ven_id
    return body


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def _fresh(obj: Any) -> Any:
    """A deep copy (cheap through orjson): callers may change what a factory returns."""
    return orjson.loads(orjson.dumps(obj))


def _without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != key}


_TEL = {"venId": "ven-1", "timestamp": TS, "usedPowerKw": 1.0}
_ACK = {"op": "event", "status": "accepted", "correlationId": "c1", "ts": TS}


def _tel(**kw: Any) -> bytes:
    return dumps(_TEL | kw)


def _ack(**kw: Any) -> bytes:
    return dumps(_ACK | kw)


#: (name, topic kind, raw payload, expected code, expected field). Topic kinds: `metering`
#: (volttron/metering), `oadr` (oadr/meter/ven-1), `ack` (ven/ack/ven-1), `bare-ack` (ven/ack/).
MALFORMED: list[tuple[str, str, bytes, str, str | None]] = [
    ("invalid utf-8", "metering", b"\xff\xfe{}", "invalid_utf8", None),
    ("not json", "metering", b"hello", "invalid_json", None),
    ("json array", "metering", b"[1, 2]", "not_object", None),
    ("json string", "ack", b'"ok"', "not_object", None),
    ("empty payload", "metering", b"", "empty", None),
    ("NaN", "metering", b'{"venId":"ven-1","timestamp":1700000000,"usedPowerKw":NaN}', "not_finite", None),
    ("over 128 KiB", "metering", _tel(note="x" * (128 * 1024)), "too_large", None),
    ("no venId anywhere", "metering", dumps(_without(_TEL, "venId")), "missing_ven_id", "venId"),
    ("venId differs from topic", "oadr", _tel(venId="ven-2"), "ven_id_mismatch", "venId"),
    ("venId not an id", "metering", _tel(venId="ven/1 #"), "invalid_value", "venId"),
    ("no timestamp", "metering", dumps(_without(_TEL, "timestamp")), "missing_field", "timestamp"),
    ("no power", "metering", dumps(_without(_TEL, "usedPowerKw")), "missing_field", "usedPowerKw"),
    ("power as string", "metering", _tel(usedPowerKw="1.0"), "wrong_type", "usedPowerKw"),
    ("power absurd", "metering", _tel(usedPowerKw=1e12), "out_of_range", "usedPowerKw"),
    ("timestamp in ms", "metering", _tel(timestamp=TS * 1000), "out_of_range", "timestamp"),
    (
        "timestamp without zone",
        "metering",
        _tel(timestamp="2023-11-14T22:13:20"),
        "invalid_timestamp",
        "timestamp",
    ),
    ("timestamp a bool", "metering", _tel(timestamp=True), "wrong_type", "timestamp"),
    ("loads an object", "metering", _tel(loads={"a": 1}), "wrong_type", "loads"),
    ("load without id", "metering", _tel(loads=[{"name": "x"}]), "missing_field", "loads.0.loadId"),
    (
        "load enabled as text",
        "metering",
        _tel(loads=[{"id": "a", "enabled": "yes"}]),
        "wrong_type",
        "loads.0.enabled",
    ),
    ("battery over 100 %", "metering", _tel(batterySoc=250), "out_of_range", "batterySoc"),
    ("eventId a number", "metering", _tel(eventId=5), "wrong_type", "eventId"),
    ("ack without op", "ack", dumps(_without(_ACK, "op")), "missing_field", "op"),
    ("ack without outcome", "ack", dumps(_without(_ACK, "status")), "missing_field", "status"),
    ("ack status unknown", "ack", _ack(status="maybe"), "invalid_value", "status"),
    ("ack ok not a bool", "ack", _ack(ok="yes"), "wrong_type", "ok"),
    ("ack ok contradicts status", "ack", _ack(ok=False), "outcome_conflict", "ok"),
    ("ack data not an object", "ack", _ack(data=[1]), "wrong_type", "data"),
    ("ack circuits not a list", "ack", _ack(circuits_curtailed="all"), "wrong_type", "circuitsCurtailed"),
    ("ack ts out of range", "ack", _ack(ts=99_999_999_999), "out_of_range", "ts"),
    ("ack shed not a number", "ack", _ack(actual_shed_kw="lots"), "wrong_type", "actualShedKw"),
    ("ack topic without venId", "bare-ack", _ack(), "unknown_topic", "topic"),
]
