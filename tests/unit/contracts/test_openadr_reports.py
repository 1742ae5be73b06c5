"""A report's DEMAND and BASELINE as readings (dr_contracts.openadr_reports)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dr_contracts.openadr_reports import report_readings
from dr_contracts.rejection import Rejected

pytestmark = pytest.mark.unit


def _report(*intervals: tuple[str, list[tuple[str, list[Any]]]], units: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resources": [
            {
                "resourceName": "site",
                "intervals": [
                    {
                        "id": n,
                        "intervalPeriod": {"start": start, "duration": "PT15M"},
                        "payloads": [{"type": t, "values": v} for t, v in payloads],
                    }
                    for n, (start, payloads) in enumerate(intervals)
                ],
            }
        ]
    }
    if units is not None:
        body["payloadDescriptors"] = [{"payloadType": "DEMAND", "units": units}]
    return body


def test_times_are_utc_and_shed_is_baseline_minus_demand() -> None:
    [reading] = report_readings(_report(("2031-05-05T01:00:00+05:00", [("DEMAND", [3]), ("BASELINE", [5])])))
    assert reading.ts == datetime(2031, 5, 4, 20, 0, tzinfo=UTC) and reading.ts.date().day == 4
    assert (reading.demand_kw, reading.baseline_kw, reading.shed_kw, reading.interval_s) == (3, 5, 2, 900)


def test_other_payloads_and_intervals_without_demand_are_not_readings() -> None:
    assert report_readings(_report(("2026-12-06T10:00:00Z", [("USAGE", [1.5])]))) == []


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (_report(("1999-12-31T23:00:00Z", [("DEMAND", [1])])), "intervalPeriod.start"),
        (_report(("2026-12-06T10:00:00Z", [("DEMAND", [1, 2])])), "values"),
        (_report(("2026-12-06T10:00:00Z", [("DEMAND", ["1"])])), "values"),
        (_report(("2026-12-06T10:00:00Z", [("DEMAND", [1])]), units="W"), "units"),
        (
            _report(
                *[(f"2026-01-{d:02d}T10:00:00Z", [("DEMAND", [1])]) for d in range(1, 32)],
                ("2026-02-01T10:00:00Z", [("DEMAND", [1])]),
            ),
            "resources",
        ),
    ],
)
def test_what_cannot_be_read_names_its_field(report: dict[str, Any], field: str) -> None:
    with pytest.raises(Rejected) as refused:
        report_readings(report)
    assert field in (refused.value.field or ""), refused.value
