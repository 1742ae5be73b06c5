"""A VEN's projected row: registration as a fold over ven.registry, metrics from telemetry.

Policies (docs/ingest.md):
* a VEN first seen in telemetry is registered automatically (source `telemetry`, name = venId);
* a deleted VEN stays deleted when telemetry keeps arriving (its readings are still stored
  and its metrics kept current, but only a new VenRegistered brings it back);
* every row's `created_at` is the earliest fact known about the VEN, so the projection
  does not depend on how the registry and telemetry topics interleave (live vs rebuild).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dr_contracts.facts import FactPayload, VenDeleted, VenRegistered, VenUpdated
from ingest.domain.readings import Reading

DEFAULT_REPORT_INTERVAL_S = 5.0

#: Keys in a reading's extras that carry the VEN's report interval (seconds).
INTERVAL_KEYS = (
    "reportIntervalSeconds",
    "report_interval_seconds",
    "reportIntervalS",
    "report_interval_s",
    "interval_s",
)


@dataclass(frozen=True)
class Registration:
    """The registry columns of `vens`."""

    ven_id: str
    name: str
    source: str
    created_at: datetime
    admin_status: str | None = None
    lat: float | None = None
    lon: float | None = None
    deleted_at: datetime | None = None


def register(state: Registration | None, fact: FactPayload, at: datetime) -> Registration:
    """The registration after one ven.registry fact that occurred at `at`.

    A VenUpdated or VenDeleted for a VEN with no registration yet concerns a VEN the API
    knew from its telemetry: it creates the row as `telemetry`-sourced, exactly as if the
    telemetry had been projected first.
    """
    ven_id = fact.venId  # type: ignore[attr-defined]
    created = min(state.created_at, at) if state else at
    base = state or Registration(ven_id=ven_id, name=ven_id, source="telemetry", created_at=at)
    if isinstance(fact, VenRegistered):
        return replace(
            base,
            name=fact.name,
            source="api",
            admin_status=fact.status,
            created_at=created,
            lat=fact.location.lat if fact.location else None,
            lon=fact.location.lon if fact.location else None,
            deleted_at=None,
        )
    if isinstance(fact, VenUpdated):
        changes: dict[str, Any] = {"created_at": created}
        if fact.name is not None:
            changes["name"] = fact.name
        if fact.status is not None:
            changes["admin_status"] = fact.status
        if fact.location is not None:
            changes |= {"lat": fact.location.lat, "lon": fact.location.lon}
        return replace(base, **changes)
    if isinstance(fact, VenDeleted):
        return replace(base, created_at=created, deleted_at=base.deleted_at or at)
    return base


@dataclass(frozen=True)
class Metrics:
    """The latest-reading columns of `vens`."""

    shed_availability_kw: float
    report_interval_s: float
    loads: list[dict[str, Any]]


def metrics(reading: Reading) -> Metrics:
    """What a reading says about the VEN beyond its own columns."""
    return Metrics(
        shed_availability_kw=sum(
            load.get("shedCapabilityKw") or 0.0 for load in reading.loads if load.get("enabled") is not False
        ),
        report_interval_s=report_interval(reading.extras),
        loads=[{key: load.get(field) for key, field in _LOAD_KEYS.items()} for load in reading.loads],
    )


def report_interval(extras: dict[str, Any]) -> float:
    """The interval a reading announces, else the default of 5 s."""
    for key in INTERVAL_KEYS:
        value = extras.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 86_400:
            return float(value)
    return DEFAULT_REPORT_INTERVAL_S


#: `vens.loads` items (the API's shape) <- reading load fields.
_LOAD_KEYS = {
    "id": "loadId",
    "type": "type",
    "name": "name",
    "capacityKw": "capacityKw",
    "shedCapabilityKw": "shedCapabilityKw",
    "currentPowerKw": "currentPowerKw",
    "enabled": "enabled",
    "priority": "priority",
}
