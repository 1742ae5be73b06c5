"""OpenADR 3.1 end to end, driven by a client no one here wrote (openadr3-client 2.4.2).

The BL creates a program and an event over OpenADR (tests/openadr3_client/bl_and_ven.py); the
event reaches a simulated MQTT VEN, which acks it, as one created over /api/events would; an
OpenADR VEN, subscribed, gets the webhook, reads it and reports on it (its telemetry); the BL
reads the report, then deletes the event, which stops it on the platform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from api.openadr.app import MOUNT
from api.openadr.clients import add_client
from tests.fixtures.openadr_client import run_client_async
from tests.fixtures.openadr_spec import validate_answer
from tests.fixtures.waiting import wait_for
from tests.fixtures.webhook_receiver import Receiver, receiver

from .helpers import event_reaches, get_json, online_vens, sim_ven_ids

__all__ = ["receiver"]
pytestmark = pytest.mark.e2e
JWT_SECRET = "e2e-openadr-secret-of-at-least-32-bytes"


def checked(findings: dict[str, Any]) -> None:
    """Every answer the third-party client got is one the OpenADR 3.1.0 document allows."""
    answers = findings.pop("answers")
    assert answers, "the client recorded no answer"
    for a in answers:
        path = urlsplit(a["url"]).path.removeprefix(MOUNT)
        validate_answer(a["method"], path, a["status"], a["body"])


async def test_bl_and_ven_over_openadr(
    platform_factory, api_for, ns: str, tmp_path: Path, receiver: Receiver
) -> None:
    clients = tmp_path / "oadr-clients"
    secrets = {
        "bl_secret": add_client(clients, "bl", "operator"),
        "ven_secret": add_client(clients, "ven-1", "ven"),
    }
    env = {
        "API_JWT_SECRET": JWT_SECRET,
        "OADR_CLIENTS_FILE": str(clients),
        "OADR_WEBHOOK_HOSTS": "127.0.0.1",  # the receiver, on this machine, over http
        "OADR_WEBHOOK_ALLOW_HTTP": "true",
        "OADR_NOTIFIER_GROUP_ID": f"oadr-notifier-{ns}",
    }
    platform = platform_factory(2, env=env)
    api = api_for(platform)
    await online_vens(api, 2)
    mqtt_ven = sim_ven_ids(ns, 2)[0]
    base = platform.api_url + MOUNT

    def run(phase: str, **extra: object):
        shown = {
            "mqtt_ven": mqtt_ven,
            "kw": 1.0,
            "demand_kw": 7.0,
            "baseline_kw": 9.5,
            "callback": receiver.url,
        }
        settings = json.dumps(secrets | shown | extra)
        return run_client_async("bl_and_ven.py", phase, base, settings, env={"PATH": "/usr/bin:/bin"})

    seen = await run("create")
    checked(seen)
    event_id = seen["event_id"]
    assert seen["event_targets"] == [mqtt_ven, "site-a"]
    assert seen["ven_sees"] == [event_id] and seen["ven_sees_targets"] == [["site-a"]]
    assert seen["renamed"] == "openadr-program-2" and seen["renamed_kept_created"]
    assert seen["ven_creating_event"] == 403
    assert seen["wrong_secret"] == "InvalidClientError"
    assert seen["report_client_id"] == "ven-1" and seen["bl_reads_reports"]
    assert seen["subscription_client_id"] == "ven-1"
    await wait_for(lambda: receiver.of("EVENT", "CREATE"), timeout=30, message="the VEN's webhook never came")
    [hook] = receiver.of("EVENT", "CREATE")
    assert hook.authorization == "Bearer cb-secret"
    assert hook.body["object"]["id"] == event_id and hook.body["object"]["targets"] == ["site-a"]

    event = await get_json(api, f"/api/events/{event_id}")
    assert event["venIds"] == [mqtt_ven] and event["requestedReductionKw"] == 1.0
    await event_reaches(api, event_id, "active")

    async def acked() -> bool:
        return (await get_json(api, f"/api/events/{event_id}"))["vensResponding"] == 1

    await wait_for(acked, timeout=60, message=f"{mqtt_ven} never acked {event_id}")
    # The OpenADR VEN's report is its telemetry: it sheds 2.5 kW in the event, next to the MQTT VEN.
    [reading] = (await get_json(api, "/api/vens/oadr-ven-1/telemetry"))["telemetry"]
    assert (reading["usedPowerKw"], reading["shedPowerKw"], reading["eventId"]) == (7.0, 2.5, event_id)

    gone = await run("delete", event_id=event_id)
    checked(gone)
    assert gone == {"deleted": event_id, "ven_sees": []}
    assert (await get_json(api, f"/api/events/{event_id}"))["status"] in ("stopped", "completed")
