"""Telemetry readings (docs/contract.md §4): every legacy shape -> one `Telemetry`."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from dr_contracts.base import Id, Kw, Model, UtcDatetime, from_unix, resolve_ven_id, to_unix
from dr_contracts.rejection import Rejected, from_validation_error


class LoadReading(Model):
    """One circuit in a reading; old firmware says `id` instead of `loadId`."""

    loadId: str = Field(min_length=1, max_length=128)
    name: str | None = None
    type: str | None = None
    capacityKw: Kw | None = None
    currentPowerKw: Kw | None = None
    shedCapabilityKw: Kw | None = None
    enabled: bool | None = None
    priority: int | None = None
    extras: dict[str, Any] = Field(default_factory=dict)


class Telemetry(Model):
    """The canonical reading; (venId, timestamp) identifies it."""

    schemaVersion: str = "1.0"
    venId: Id
    timestamp: UtcDatetime
    usedPowerKw: Kw
    shedPowerKw: Kw | None = None
    requestedReductionKw: Kw | None = None
    eventId: str | None = None
    baselinePowerKw: Kw | None = None
    batterySoc: float | None = Field(default=None, ge=0, le=1)
    panelAmperageRating: float | None = Field(default=None, ge=0, le=10_000)
    panelVoltage: float | None = Field(default=None, ge=0, le=100_000)
    panelMaxKw: Kw | None = None
    currentAmps: float | None = Field(default=None, ge=-100_000, le=100_000)
    panelUtilizationPercent: float | None = None
    loads: list[LoadReading] = Field(default_factory=list, max_length=1000)
    extras: dict[str, Any] = Field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The contract payload a VEN publishes: canonical fields plus the legacy keys."""
        body = self.model_dump(exclude={"timestamp", "loads", "extras"})
        ts = to_unix(self.timestamp)
        body["timestamp"] = ts
        body["loads"] = [
            {k: v for k, v in load.model_dump(exclude={"extras"}).items() if v is not None} | load.extras
            for load in self.loads
        ]
        body.update(
            power_kw=self.usedPowerKw,
            shed_kw=self.shedPowerKw,
            base_power_kw=self.baselinePowerKw,
            ts=ts,
            active_event=self.eventId,
        )
        body.update(self.extras)
        return body


_LEGACY = {
    "power_kw": "usedPowerKw",
    "shed_kw": "shedPowerKw",
    "base_power_kw": "baselinePowerKw",
    "ts": "timestamp",
    "active_event": "eventId",
    "batterySOC": "batterySoc",
}
_FIELDS = set(Telemetry.model_fields) - {"extras"}
_LOAD_FIELDS = set(LoadReading.model_fields) - {"extras"}


def normalize_telemetry(obj: dict[str, Any], topic_ven_id: str | None = None) -> Telemetry:
    """A decoded telemetry object (any firmware generation) -> Telemetry, or Rejected."""
    body: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _FIELDS:
            body[key] = value
        elif key not in _LEGACY:
            extras[key] = value
    for legacy, canonical in _LEGACY.items():
        if legacy in obj and body.get(canonical) is None:
            body[canonical] = obj[legacy]
    body["venId"] = resolve_ven_id(body.get("venId"), topic_ven_id)
    if "timestamp" not in body:
        raise Rejected("missing_field", "a reading needs `timestamp` (or legacy `ts`)", "timestamp")
    if body.get("usedPowerKw") is None:
        raise Rejected("missing_field", "a reading needs `usedPowerKw` (or `power_kw`)", "usedPowerKw")
    body["timestamp"] = from_unix(body["timestamp"], "timestamp")
    body["batterySoc"] = _fraction(body.get("batterySoc"))
    body["loads"] = _loads(body.get("loads", []))
    body["extras"] = extras
    try:
        return Telemetry.model_validate(body)
    except ValidationError as err:
        raise from_validation_error(err) from None


def _fraction(value: Any) -> Any:
    """Some firmware reports state of charge as 0-100 %; the canonical form is 0-1."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
        return value / 100
    return value


def _loads(items: Any) -> Any:
    if not isinstance(items, list):
        return items  # let validation say "loads: expected a list"
    out = []
    for item in items:
        if not isinstance(item, dict):
            out.append(item)
            continue
        load = {k: v for k, v in item.items() if k in _LOAD_FIELDS}
        if "loadId" not in load and "id" in item:
            load["loadId"] = item["id"]
        load["extras"] = {k: v for k, v in item.items() if k not in _LOAD_FIELDS and k != "id"}
        out.append(load)
    return out
