"""What an OpenADR 3 report says about its VEN's power: the one home of that reading.

A report's `DEMAND` and `BASELINE` payloads (kW) become the VEN's telemetry: the facade
checks them with this before it appends the report (400 otherwise), the projector turns
them into readings of the VEN with it (docs/openadr.md#reports). Per interval start, the
values of all the report's resources add up (a VEN's resources are parts of one site);
other payload types are kept in the report and not read. A report without a descriptor
for them is in kW; one that names other units is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from dr_contracts.base import MAX_TS, MIN_TS
from dr_contracts.rejection import Rejected

DEMAND, BASELINE = "DEMAND", "BASELINE"
UNITS = "KW"
#: The most UTC days one report's readings may fall on: each day is a partition to create.
MAX_DAYS = 31
_TIME = TypeAdapter(AwareDatetime)
_DURATION = TypeAdapter(timedelta)


@dataclass(frozen=True)
class ReportReading:
    """The VEN's power at `ts`, by its report: used (DEMAND) and, when given, its baseline."""

    ts: datetime
    demand_kw: float
    baseline_kw: float | None
    #: The interval's duration: how often this VEN reports (None: not given).
    interval_s: float | None

    @property
    def shed_kw(self) -> float | None:
        """What it sheds: baseline minus demand (negative when it uses more than its baseline)."""
        return None if self.baseline_kw is None else self.baseline_kw - self.demand_kw


def report_readings(report: dict[str, Any]) -> list[ReportReading]:
    """The readings a report body holds (nulls already dropped), oldest first; Rejected names
    the field of the first value that cannot be read."""
    _check_units(report.get("payloadDescriptors"))
    sums: dict[datetime, dict[str, float]] = {}
    spans: dict[datetime, float | None] = {}
    for r, resource in enumerate(_items(report.get("resources"), "resources")):
        where = f"resources[{r}]"
        for i, interval in enumerate(_items(resource.get("intervals"), f"{where}.intervals")):
            at = f"{where}.intervals[{i}]"
            values = _power(interval, at)
            if not values:
                continue
            start, span = _period(interval.get("intervalPeriod") or resource.get("intervalPeriod"), at)
            slot = sums.setdefault(start, {})
            for kind, kw in values.items():
                slot[kind] = slot.get(kind, 0.0) + kw
            spans[start] = spans.get(start) or span
    readings = [
        ReportReading(ts, slot[DEMAND], slot.get(BASELINE), spans[ts])
        for ts, slot in sorted(sums.items())
        if DEMAND in slot
    ]
    if len({r.ts.date() for r in readings}) > MAX_DAYS:
        raise Rejected(
            "too_long", f"its readings span more than {MAX_DAYS} days: send several reports", "resources"
        )
    return readings


def _check_units(descriptors: Any) -> None:
    for n, d in enumerate(descriptors if isinstance(descriptors, list) else []):
        if isinstance(d, dict) and d.get("payloadType") in (DEMAND, BASELINE):
            units = d.get("units", UNITS)
            if units != UNITS:
                raise Rejected(
                    "unsupported_units",
                    f"{d['payloadType']} must be in {UNITS}, not {units!r}",
                    f"payloadDescriptors[{n}].units",
                )


def _items(value: Any, field: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Rejected("wrong_type", "must be a list of objects", field)
    return value


def _power(interval: dict[str, Any], at: str) -> dict[str, float]:
    """DEMAND and BASELINE of one interval: each one finite number of kW."""
    found: dict[str, float] = {}
    for p, payload in enumerate(_items(interval.get("payloads"), f"{at}.payloads")):
        kind = payload.get("type")
        if kind not in (DEMAND, BASELINE):
            continue
        values = payload.get("values")
        value = values[0] if isinstance(values, list) and len(values) == 1 else None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Rejected("invalid_value", f"{kind} must be one number of kW", f"{at}.payloads[{p}].values")
        found[kind] = float(value)
    return found


def _period(period: Any, at: str) -> tuple[datetime, float | None]:
    if not isinstance(period, dict) or "start" not in period:
        raise Rejected(
            "missing_field", "a DEMAND or BASELINE value needs its interval's start", f"{at}.intervalPeriod"
        )
    try:
        start = _TIME.validate_python(period["start"]).astimezone(UTC)
        span = _DURATION.validate_python(period["duration"]).total_seconds() if "duration" in period else None
    except ValidationError as err:
        raise Rejected("invalid_value", err.errors()[0]["msg"], f"{at}.intervalPeriod") from None
    if not MIN_TS <= start.timestamp() <= MAX_TS:  # the bounds of every reading (dr_contracts.base)
        raise Rejected(
            "out_of_range", "an interval must start between 2000 and 2100", f"{at}.intervalPeriod.start"
        )
    return start, span if span and span > 0 else None
