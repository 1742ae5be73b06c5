"""Reports of OpenADR VENs: their own objects, and their DEMAND/BASELINE as the VEN's telemetry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.waiting import wait_for
from tests.integration.openadr.conftest import Oadr
from tests.integration.openadr.test_events import _event

pytestmark = pytest.mark.integration
VEN = "oadr-ven-1"


def _report(event_id: str, *payloads: tuple[str, list[Any]], at: datetime | None = None) -> dict[str, Any]:
    """A report as openadr3-client sends it (nulls for what it leaves unset)."""
    start = (at or datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    return {
        "eventID": event_id,
        "clientName": VEN,
        "reportName": None,
        "payloadDescriptors": None,
        "resources": [
            {
                "resourceName": "site",
                "intervalPeriod": {"start": start, "duration": "PT1M", "randomizeStart": None},
                "intervals": [
                    {
                        "id": 0,
                        "intervalPeriod": None,
                        "payloads": [{"type": t, "values": v} for t, v in payloads],
                    }
                ],
            }
        ],
    }


@pytest.fixture
async def event_id(bl: Oadr) -> str:
    """An event for the OpenADR VEN of ven-1 only (target `site-a`): no MQTT VEN takes part."""
    ven = {"venName": VEN, "clientID": "ven-1", "targets": ["site-a"], "objectType": "BL_VEN_REQUEST"}
    await bl.ok("POST", "/vens", 201, json=ven)
    program = await bl.ok("POST", "/programs", 201, json={"programName": "reports"})
    start = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    event = await bl.ok("POST", "/events", 201, json=_event(program["id"], start=start, targets=["site-a"]))
    return str(event["id"])


async def test_a_report_is_the_ven_s_telemetry_and_counts_for_its_event(
    bl: Oadr, ven1: Oadr, event_id: str, http: httpx.AsyncClient
) -> None:
    report = await ven1.ok(
        "POST", "/reports", 201, json=_report(event_id, ("DEMAND", [30]), ("BASELINE", [40]))
    )
    assert report["clientID"] == "ven-1" and report["eventID"] == event_id
    assert "reportName" not in report

    platform_event = (await http.get(f"/api/events/{event_id}")).json()
    assert platform_event["venIds"] == []  # nobody over MQTT
    ven = (await http.get(f"/api/vens/{VEN}")).json()
    assert ven["status"] == "online", ven
    assert (ven["metrics"]["currentPowerKw"], ven["metrics"]["activeEventId"]) == (30.0, event_id)
    [reading] = (await http.get(f"/api/vens/{VEN}/telemetry")).json()["telemetry"]
    assert (reading["usedPowerKw"], reading["shedPowerKw"], reading["eventId"]) == (30.0, 10.0, event_id)

    async def counted() -> bool:
        shown = (await http.get(f"/api/events/{event_id}")).json()
        return (shown["currentReductionKw"], shown["vensResponding"]) == (10.0, 1)

    await wait_for(counted, timeout=20, message="the event never counted the VEN's reported shed")

    program_id = (await bl.ok("GET", f"/events/{event_id}"))["programID"]
    for query in (f"eventID={event_id}", f"clientName={VEN}", f"programID={program_id}"):
        assert [r["id"] for r in await bl.ok("GET", f"/reports?{query}")] == [report["id"]], query
    assert await bl.ok("GET", "/reports?eventID=another") == []
    assert await bl.ok("GET", f"/reports/{report['id']}") == report


async def test_a_ven_reads_and_changes_only_its_own_reports(
    bl: Oadr, ven1: Oadr, ven2: Oadr, event_id: str
) -> None:
    report = await ven1.ok("POST", "/reports", 201, json=_report(event_id, ("DEMAND", [5])))
    assert await ven2.ok("GET", "/reports") == []
    assert (await ven2.call("GET", f"/reports/{report['id']}")).status_code == 404
    assert (await ven2.call("DELETE", f"/reports/{report['id']}")).status_code == 404
    assert (await bl.call("POST", "/reports", json=_report(event_id, ("DEMAND", [5])))).status_code == 403

    changed = await ven1.ok("PUT", f"/reports/{report['id']}", json=_report(event_id, ("USAGE", [1.5])))
    assert changed["createdDateTime"] == report["createdDateTime"]
    assert changed["resources"][0]["intervals"][0]["payloads"] == [{"type": "USAGE", "values": [1.5]}]
    assert await ven1.ok("DELETE", f"/reports/{report['id']}") == changed
    assert await ven1.ok("GET", "/reports") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eventID": "evt-00000000"}, "eventID"),
        (
            {
                "payloadDescriptors": [
                    {"objectType": "REPORT_PAYLOAD_DESCRIPTOR", "payloadType": "DEMAND", "units": "KWH"}
                ]
            },
            "units",
        ),
        ({"resources": "site"}, "resources"),
    ],
)
async def test_unreadable_reports_are_refused(
    ven1: Oadr, event_id: str, change: dict[str, Any], field: str
) -> None:
    response = await ven1.call("POST", "/reports", json=_report(event_id, ("DEMAND", [5])) | change)
    assert response.status_code == 400 and field in response.json()["detail"], response.text


async def test_a_demand_value_must_be_one_number(ven1: Oadr, event_id: str) -> None:
    response = await ven1.call("POST", "/reports", json=_report(event_id, ("DEMAND", [5, 6])))
    assert response.status_code == 400 and "values" in response.json()["detail"], response.text


async def test_a_ven_without_a_ven_object_cannot_report(ven2: Oadr, bl: Oadr) -> None:
    program = await bl.ok("POST", "/programs", 201, json={"programName": "open"})
    event = await bl.ok("POST", "/events", 201, json=_event(program["id"]))  # untargeted: ven-2 sees it
    response = await ven2.call("POST", "/reports", json=_report(event["id"], ("DEMAND", [5])))
    assert response.status_code == 400 and "POST /vens" in response.json()["detail"]


async def test_reports_count_in_the_event_s_delivery_chart(
    bl: Oadr, ven1: Oadr, http: httpx.AsyncClient
) -> None:
    """GET /api/events/{id}/delivery: the OpenADR VEN's reported shed, though it got no command."""
    ven = {"venName": VEN, "clientID": "ven-1", "targets": ["site-a"], "objectType": "BL_VEN_REQUEST"}
    await bl.ok("POST", "/vens", 201, json=ven)
    program = await bl.ok("POST", "/programs", 201, json={"programName": "chart"})
    now = datetime.now(UTC)
    start = (now - timedelta(minutes=4)).isoformat()
    event = await bl.ok("POST", "/events", 201, json=_event(program["id"], start=start, targets=["site-a"]))
    await ven1.ok(
        "POST",
        "/reports",
        201,
        json=_report(event["id"], ("DEMAND", [30]), ("BASELINE", [42]), at=now - timedelta(minutes=3)),
    )
    chart = (await http.get(f"/api/events/{event['id']}/delivery")).json()
    assert [(p["deliveredKw"], p["vensReporting"]) for p in chart["points"]] == [(12.0, 1)], chart
