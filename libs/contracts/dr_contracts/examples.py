"""The payload examples of docs/contract.md, verbatim: one home for the tests and the AsyncAPI document.

Tests hold the code to these (tests/unit/contracts/test_payload_examples.py, via tests/samples.py)
and dr_infra.asyncapi shows them as the message examples of docs/asyncapi.yaml, so the contract
text, the tests and the published document cannot drift apart. Treat them as read-only: copy
before changing (tests/samples.py has factories that do).
"""

from __future__ import annotations

from typing import Any

EVENT_COMMAND: dict[str, Any] = {
    "op": "event",
    "correlationId": "evt-7f3a9c21-ven-001-shed",
    "venId": "ven-001",
    "eventId": "evt-7f3a9c21",
    "event_id": "evt-7f3a9c21",
    "shed_kw": 5.0,
    "duration_sec": 3600,
    "data": {
        "event_id": "evt-7f3a9c21",
        "requestedReductionKw": 5.0,
        "duration_s": 3600,
        "start_ts": 1760997600,
        "end_ts": 1761001200,
    },
}

ACK_A: dict[str, Any] = {
    "op": "shedLoad",
    "correlationId": "abc123",
    "ok": True,
    "ts": 1700000000,
    "venId": "ven-123",
    "data": {"shedAmount": 5.0},
}

ACK_B: dict[str, Any] = {
    "op": "event",
    "status": "accepted",
    "event_id": "evt-123",
    "requested_shed_kw": 5.0,
    "actual_shed_kw": 4.8,
    "ts": 1729700000,
    "correlationId": "xyz-123",
    "circuits_curtailed": [
        {
            "id": "ev1",
            "name": "EV Charger",
            "breaker_amps": 50,
            "original_kw": 8.5,
            "curtailed_kw": 8.5,
            "final_kw": 0.0,
            "critical": False,
        }
    ],
}

ACK_C: dict[str, Any] = {
    "op": "event",
    "status": "accepted",
    "eventId": "evt-123",
    "requestedShedKw": 5.0,
    "actualShedKw": 3.5,
    "ts": 1729700000,
    "correlationId": "xyz-124",
    "circuits_curtailed": [{"loadId": "circuit_3", "name": "HVAC", "shedKw": 3.5}],
}

ACK_RESTORE: dict[str, Any] = {"op": "restore", "status": "success", "ts": 1729700100, "correlationId": "r-1"}
ACK_PING: dict[str, Any] = {
    "op": "ping",
    "status": "success",
    "pong": True,
    "ts": 1729700100,
    "correlationId": "p-1",
}

TELEMETRY: dict[str, Any] = {
    "schemaVersion": "1.0",
    "venId": "ven-123",
    "timestamp": 1700000000,
    "usedPowerKw": 2.73,
    "shedPowerKw": 0.62,
    "requestedReductionKw": 1.0,
    "eventId": "evt-9",
    "baselinePowerKw": 3.35,
    "batterySoc": 0.54,
    "panelAmperageRating": 200,
    "panelVoltage": 240,
    "panelMaxKw": 48.0,
    "currentAmps": 34.2,
    "panelUtilizationPercent": 17.1,
    "loads": [
        {
            "loadId": "hvac1",
            "name": "HVAC",
            "type": "hvac",
            "capacityKw": 3.5,
            "currentPowerKw": 0.82,
            "shedCapabilityKw": 0.5,
            "enabled": True,
            "priority": 1,
        }
    ],
    "power_kw": 2.73,
    "shed_kw": 0.62,
    "base_power_kw": 3.35,
    "ts": 1700000000,
    "active_event": "evt-9",
}

LEGACY_TELEMETRY: dict[str, Any] = {
    "venId": "ven-old",
    "power_kw": 4.1,
    "shed_kw": 0.0,
    "base_power_kw": 4.0,
    "ts": 1700000005,
    "active_event": None,
    "batterySOC": 54,
    "firmware": "1.2.3",
    "loads": [{"id": "pv1", "name": "PV", "type": "pv", "currentPowerKw": -2.5}],
}
