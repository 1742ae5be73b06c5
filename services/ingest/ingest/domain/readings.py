"""A telemetry reading as the projector stores it, read straight from the fact's JSON.

TelemetryReported is nine facts in ten, and the bridge validated it (with dr_contracts)
before producing it; re-validating each one with pydantic was the projector's largest
cost. This reads the fact's canonical JSON form (`Telemetry.model_dump(mode="json")`
inside the envelope) with plain dict access; anything missing or of the wrong type
raises instead of guessing, and the projector asks the fact model (service/projector.py):
content it refuses is dead-lettered, content it accepts means a bug here, which stops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dr_contracts.facts import TelemetryReported

_PANEL_FIELDS = (
    "panelAmperageRating",
    "panelVoltage",
    "panelMaxKw",
    "currentAmps",
    "panelUtilizationPercent",
)


#: A load layout: the distinct loadIds of a reading, sorted.
Layout = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reading:
    """One TelemetryReported fact, flattened to what the projections need."""

    fact_id: str
    ven_id: str
    ts: datetime
    received_at: datetime
    occurred_at: datetime
    used_power_kw: float
    shed_power_kw: float | None
    requested_reduction_kw: float | None
    event_id: str | None
    baseline_power_kw: float | None
    battery_soc: float | None
    loads: list[dict[str, Any]]
    panel: dict[str, Any]
    extras: dict[str, Any]
    #: The loads by loadId, sorted: the order of the per-load arrays stored with the reading.
    circuits: dict[str, dict[str, Any]]
    #: Who measured it: `telemetry` (an MQTT VEN) or `openadr` (an OpenADR VEN's report); a
    #: VEN first seen in it is registered with this source (the dispatcher commands only MQTT ones).
    source: str = "telemetry"

    @property
    def layout(self) -> Layout:
        """The reading's load layout (stored once, in load_layouts)."""
        return tuple(self.circuits)


def _circuits(loads: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Loads by loadId, sorted by loadId; a loadId repeated in one reading keeps its first
    load, as one row per load did."""
    found: dict[str, dict[str, Any]] = {}
    for load in loads:
        found.setdefault(load["loadId"], load)
    return dict(sorted(found.items()))


def reading_of(fact: dict[str, Any]) -> Reading:
    """A decoded TelemetryReported envelope -> Reading (KeyError/TypeError/ValueError if malformed)."""
    payload = fact["payload"]
    r = payload["reading"]
    loads = r["loads"]
    if not isinstance(loads, list) or not all(
        isinstance(load, dict) and isinstance(load.get("loadId"), str) for load in loads
    ):
        raise TypeError("reading.loads must be a list of objects with a string loadId")
    return Reading(
        fact_id=_text(fact["factId"]),
        ven_id=_text(r["venId"]),
        ts=_time(r["timestamp"]),
        received_at=_time(payload["receivedAt"]),
        occurred_at=_time(fact["occurredAt"]),
        used_power_kw=_number(r["usedPowerKw"]),
        shed_power_kw=_optional_number(r.get("shedPowerKw")),
        requested_reduction_kw=_optional_number(r.get("requestedReductionKw")),
        event_id=_optional_text(r.get("eventId")),
        baseline_power_kw=_optional_number(r.get("baselinePowerKw")),
        battery_soc=_optional_number(r.get("batterySoc")),
        loads=loads,
        circuits=_circuits(loads),
        panel={f: r[f] for f in _PANEL_FIELDS if r.get(f) is not None},
        extras=_object(r.get("extras", {})),
    )


def reading_from(payload: TelemetryReported, fact_id: str, occurred_at: datetime) -> Reading:
    """The same Reading from a typed fact (tests, and facts built in-process)."""
    return reading_of(
        {
            "factId": fact_id,
            "occurredAt": occurred_at.isoformat(),
            "payload": payload.model_dump(mode="json"),
        }
    )


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(_text(value))
    if parsed.tzinfo is None:
        raise ValueError(f"time without zone: {value!r}")
    return parsed


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _optional_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value
