"""The projector reads TelemetryReported straight from its JSON: same values, or a refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from dr_contracts.facts import TelemetryReported, decode_fact, encode_fact
from dr_contracts.topics import MqttTopics
from ingest.domain.intake import intake
from ingest.domain.readings import Reading, reading_of
from tests import samples

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def wire(payload: dict[str, Any], topic: str = "volttron/metering") -> dict[str, Any]:
    """The fact the bridge would produce for this payload, as the projector receives it."""
    return orjson.loads(encode_fact(intake(topic, samples.dumps(payload), NOW, MqttTopics(""))))


def reading_of_payload(payload: dict[str, Any]) -> Reading:
    return reading_of(wire(payload))


def test_every_field_of_a_full_reading() -> None:
    r = reading_of_payload(samples.telemetry("ven-1"))
    assert (r.ven_id, r.ts, r.received_at, r.occurred_at) == (
        "ven-1",
        datetime.fromtimestamp(samples.TS, UTC),
        NOW,
        NOW,
    )
    assert (
        r.used_power_kw,
        r.shed_power_kw,
        r.requested_reduction_kw,
        r.baseline_power_kw,
        r.battery_soc,
    ) == (2.73, 0.62, 1.0, 3.35, 0.54)
    assert r.event_id == "evt-9"
    assert [load["loadId"] for load in r.loads] == ["hvac1", "pv1", "ev1"]
    assert r.panel == {
        "panelAmperageRating": 200,
        "panelVoltage": 240,
        "panelMaxKw": 48.0,
        "currentAmps": 34.2,
        "panelUtilizationPercent": 17.1,
    }
    assert r.extras == {}
    assert r.fact_id.startswith("tel-")


def test_legacy_reading_keeps_its_extras() -> None:
    r = reading_of(wire(samples.legacy_telemetry(None), "oadr/meter/ven-old"))
    assert (r.ven_id, r.used_power_kw, r.event_id, r.extras) == ("ven-old", 1.5, None, {"firmware": "2.1.0"})


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: f["payload"]["reading"].pop("venId"),
        lambda f: f["payload"]["reading"].update(usedPowerKw="2"),
        lambda f: f["payload"]["reading"].update(timestamp="2023-11-14T22:13:20"),
        lambda f: f["payload"]["reading"].update(loads=[1]),
        lambda f: f["payload"]["reading"]["loads"][0].pop("loadId"),
        lambda f: f["payload"].update(receivedAt=5),
        lambda f: f.pop("factId"),
    ],
)
def test_a_malformed_fact_is_refused(damage: Any) -> None:
    fact = wire(samples.telemetry())
    damage(fact)
    with pytest.raises((KeyError, TypeError, ValueError)):
        reading_of(fact)


def test_circuits_are_the_layout_sorted_by_load_id_and_a_repeated_id_keeps_its_first_load() -> None:
    body = samples.telemetry()
    body["loads"] = [
        {"loadId": "wh", "currentPowerKw": 1.0},
        {"loadId": "ev", "currentPowerKw": 2.0},
        {"loadId": "wh", "currentPowerKw": 3.0},
    ]
    loads = reading_of_payload(body).circuits
    assert list(loads) == ["ev", "wh"]
    assert loads["wh"]["currentPowerKw"] == 1.0


def test_a_telemetry_fact_no_longer_carries_the_payload_twice_and_old_ones_still_decode() -> None:
    fact = wire(samples.telemetry())
    assert fact["payload"]["raw"] is None
    old = fact | {"payload": fact["payload"] | {"raw": samples.telemetry()}}
    decoded = decode_fact(orjson.dumps(old))
    assert isinstance(decoded.payload, TelemetryReported) and decoded.payload.raw == samples.telemetry()
    assert reading_of(old) == reading_of(fact)
