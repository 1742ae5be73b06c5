"""A utility's BL and an OpenADR VEN, both the third-party openadr3-client, against the facade.

Run by tests/e2e/test_openadr_client.py with .venv-openadr3's Python:
``bl_and_ven.py <phase> <vtn base url> <json settings>``; prints its findings as JSON.
- phase `create`: the BL grants target `site-a` to the VEN client and creates a program; the
  VEN subscribes to events of it (a webhook); the BL creates an event targeted at a simulated
  MQTT VEN and at `site-a`; the VEN finds it; the BL renames
  the program; the VEN reports its demand and baseline, which the BL reads; a VEN creating
  an event gets 403, a wrong secret gets no token.
- phase `delete`: the BL deletes the event (a stop, as it is active); the VEN no longer sees it.
Assertions here are about what the client saw; the caller checks the platform's side, and every
answer the clients got (`answers`) against the OpenADR 3.1.0 document.
"""

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from openadr3_client._models.common.interval import Interval
from openadr3_client._models.common.interval_period import IntervalPeriod
from openadr3_client.bl.http_factory import BusinessLogicHttpClientFactory
from openadr3_client.oadr310._vtn.interfaces.filters import PaginationFilter, TargetFilter
from openadr3_client.oadr310.models.event.event import NewEvent
from openadr3_client.oadr310.models.event.event_payload import (
    EventPayload,
    EventPayloadDescriptor,
    EventPayloadType,
)
from openadr3_client.oadr310.models.program.program import NewProgram, ProgramUpdate
from openadr3_client.oadr310.models.report.report import NewReport, ReportResource
from openadr3_client.oadr310.models.report.report_payload import ReportPayload, ReportPayloadType
from openadr3_client.oadr310.models.unit import Unit
from openadr3_client.oadr310.models.ven.ven import NewVenBlRequest
from openadr3_client.ven.http_factory import VirtualEndNodeHttpClientFactory
from openadr3_client.version import OADRVersion
from requests import HTTPError

PAGE = PaginationFilter(skip=0, limit=50)
INTERFACES = ("auth", "events", "programs", "reports", "vens", "subscriptions", "notifiers", "resources")
#: Every answer the clients got, for the suite to check against the OpenADR 3.1.0 document.
ANSWERS: list[dict[str, Any]] = []


def _record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    body = response.json() if response.content else None
    ANSWERS.append(
        {
            "method": response.request.method,
            "url": response.request.url,
            "status": response.status_code,
            "body": body,
        }
    )


def _client(create: Any, base: str, client_id: str, secret: str) -> Any:
    """A client whose every interface records its answers (one requests.Session each)."""
    # token_url None: the client asks GET /auth/server where tokens come from.
    client = create(
        vtn_base_url=base,
        client_id=client_id,
        client_secret=secret,
        token_url=None,
        allow_insecure_http=True,
        version=OADRVersion.OADR_310,
    )
    for name in INTERFACES:
        session = getattr(getattr(client, name), "session", None)
        if isinstance(session, requests.Session):
            session.hooks["response"].append(_record)
    return client


def _bl(base: str, client_id: str, secret: str) -> Any:
    return _client(BusinessLogicHttpClientFactory.create_http_bl_client, base, client_id, secret)


def _ven(base: str, client_id: str, secret: str) -> Any:
    return _client(VirtualEndNodeHttpClientFactory.create_http_ven_client, base, client_id, secret)


def _event(program_id: str, targets: tuple[str, ...], kw: float) -> NewEvent:
    return NewEvent(
        programID=program_id,
        event_name="shed-over-openadr",
        targets=targets,
        payload_descriptors=(
            EventPayloadDescriptor(payload_type=EventPayloadType.DISPATCH_SETPOINT_RELATIVE, units=Unit.KW),
        ),
        interval_period=IntervalPeriod(
            start=datetime.now(UTC) + timedelta(seconds=2), duration=timedelta(minutes=5)
        ),
        intervals=(
            Interval(
                id=0, payloads=(EventPayload(type=EventPayloadType.DISPATCH_SETPOINT_RELATIVE, values=(kw,)),)
            ),
        ),
    )


def _report(event_id: str, demand_kw: float, baseline_kw: float) -> NewReport:
    """What the VEN used and would have used over the last minute (the platform's telemetry)."""
    period = IntervalPeriod(start=datetime.now(UTC) - timedelta(seconds=30), duration=timedelta(minutes=1))
    payloads = (
        ReportPayload(type=ReportPayloadType.DEMAND, values=(demand_kw,)),
        ReportPayload(type=ReportPayloadType.BASELINE, values=(baseline_kw,)),
    )
    resource = ReportResource(
        resource_name="site", interval_period=period, intervals=(Interval(id=0, payloads=payloads),)
    )
    return NewReport(eventID=event_id, client_name="oadr-ven-1", resources=(resource,))


def _status_of(call: Any) -> int | str:
    try:
        call()
    except HTTPError as err:
        return err.response.status_code
    except Exception as err:  # oauthlib's refusal of the token request
        return type(err).__name__
    return "no error"


def create(base: str, s: dict[str, Any]) -> dict[str, Any]:
    bl, ven = _bl(base, "bl", s["bl_secret"]), _ven(base, "ven-1", s["ven_secret"])
    bl.vens.create_ven(NewVenBlRequest(ven_name="oadr-ven-1", clientID="ven-1", targets=("site-a",)))
    program = bl.programs.create_program(NewProgram(program_name="openadr-program"))
    # The client's subscription model speaks 3.0.1's operations (GET/POST/PUT/DELETE), which
    # 3.1.0 renamed: its own authenticated session sends a 3.1.0 subscription.
    hook = {
        "objects": ["EVENT"],
        "operations": ["CREATE"],
        "callbackUrl": s["callback"],
        "bearerToken": "cb-secret",
    }
    subscribed = ven.subscriptions.session.post(
        f"{base}/subscriptions",
        json={"clientName": "oadr-ven-1", "programID": program.id, "objectOperations": [hook]},
    )
    subscribed.raise_for_status()
    event = bl.events.create_event(_event(program.id, (s["mqtt_ven"], "site-a"), s["kw"]))
    seen = ven.events.get_events(
        target=TargetFilter(targets=["site-a"]), pagination=PAGE, program_id=program.id
    )
    renamed = bl.programs.update_program_by_id(program.id, ProgramUpdate(program_name="openadr-program-2"))
    report = ven.reports.create_report(_report(event.id, s["demand_kw"], s["baseline_kw"]))
    bl_reports = bl.reports.get_reports(
        pagination=PAGE, program_id=program.id, event_id=event.id, client_name=None
    )
    return {
        "program_id": program.id,
        "event_id": event.id,
        "event_targets": list(event.targets or ()),
        "ven_sees": [e.id for e in seen],
        "ven_sees_targets": [list(e.targets or ()) for e in seen],
        "renamed": renamed.program_name,
        "renamed_kept_created": renamed.created_date_time == program.created_date_time,
        "subscription_client_id": subscribed.json()["clientID"],
        "report_client_id": report.client_id,
        "bl_reads_reports": [r.id for r in bl_reports] == [report.id],
        # The VEN client has no create_event: its own authenticated session sends the request.
        "ven_creating_event": _status_of(
            lambda: ven.events.session.post(
                f"{base}/events", json=_event(program.id, (), 1.0).model_dump(by_alias=True, mode="json")
            ).raise_for_status()
        ),
        "wrong_secret": _status_of(
            lambda: _bl(base, "bl", "wrong").programs.get_programs(target=None, pagination=PAGE)
        ),
    }


def delete(base: str, s: dict[str, Any]) -> dict[str, Any]:
    bl, ven = _bl(base, "bl", s["bl_secret"]), _ven(base, "ven-1", s["ven_secret"])
    deleted = bl.events.delete_event_by_id(s["event_id"])
    left = ven.events.get_events(target=None, pagination=PAGE, program_id=None)
    return {"deleted": deleted.id, "ven_sees": [e.id for e in left]}


if __name__ == "__main__":
    phase, base_url, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    findings = {"create": create, "delete": delete}[phase](base_url, settings)
    print(json.dumps(findings | {"answers": ANSWERS}))
