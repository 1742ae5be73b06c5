"""Subscriptions and their webhooks: the notifier (a real consumer group) against a receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.openadr.notifier import running_notifier
from api.settings import Settings
from tests.fixtures.waiting import wait_for
from tests.fixtures.webhook_receiver import Receiver, receiver
from tests.integration.openadr.conftest import Oadr
from tests.integration.openadr.test_events import _event

__all__ = ["receiver"]
pytestmark = pytest.mark.integration


def _subscription(url: str, objects: list[str], operations: list[str], **extra: Any) -> dict[str, Any]:
    operation = {"objects": objects, "operations": operations, "callbackUrl": url, "bearerToken": "cb-secret"}
    return {
        "clientName": "ven-1",
        "programID": None,
        "objectOperations": [operation],
        "targets": None,
    } | extra


@pytest.fixture
async def notifier(oadr_settings: Settings, http: object) -> AsyncIterator[None]:
    async with running_notifier(oadr_settings):
        yield


async def test_subscription_crud_and_the_callback_guard(
    bl: Oadr, ven1: Oadr, ven2: Oadr, receiver: Receiver
) -> None:
    mine = await ven1.ok(
        "POST", "/subscriptions", 201, json=_subscription(receiver.url, ["EVENT"], ["CREATE"])
    )
    assert mine["clientID"] == "ven-1" and mine["objectOperations"][0]["bearerToken"] == "cb-secret"
    assert [s["id"] for s in await ven1.ok("GET", "/subscriptions?objects=EVENT")] == [mine["id"]]
    assert await ven1.ok("GET", "/subscriptions?objects=PROGRAM") == []
    assert await ven2.ok("GET", "/subscriptions") == []  # another VEN's
    assert (await ven2.call("DELETE", f"/subscriptions/{mine['id']}")).status_code == 404
    assert [s["id"] for s in await bl.ok("GET", "/subscriptions?clientName=ven-1")] == [mine["id"]]
    changed = await ven1.ok(
        "PUT",
        f"/subscriptions/{mine['id']}",
        json=_subscription(receiver.url, ["EVENT"], ["CREATE", "DELETE"]),
    )
    assert changed["createdDateTime"] == mine["createdDateTime"]
    assert await ven1.ok("DELETE", f"/subscriptions/{mine['id']}") == changed

    for url in ("http://evil.example.com/hook", "ftp://127.0.0.1/hook", "http://user:pw@127.0.0.1/hook"):
        refused = await ven1.call("POST", "/subscriptions", json=_subscription(url, ["EVENT"], ["CREATE"]))
        assert refused.status_code == 400 and "callbackUrl" in refused.json()["detail"], url
    old_style = await ven1.call(
        "POST", "/subscriptions", json=_subscription(receiver.url, ["EVENT"], ["POST"])
    )
    assert old_style.status_code == 400  # 3.0's operation names


async def test_webhooks_carry_what_each_subscriber_may_see(
    bl: Oadr, ven1: Oadr, ven2: Oadr, receiver: Receiver, notifier: None
) -> None:
    grant = {"venName": "v1", "clientID": "ven-1", "targets": ["site-a"], "objectType": "BL_VEN_REQUEST"}
    await bl.ok("POST", "/vens", 201, json=grant)
    program = await bl.ok("POST", "/programs", 201, json={"programName": "hooks"})
    await ven1.ok(
        "POST", "/subscriptions", 201, json=_subscription(receiver.url, ["EVENT"], ["CREATE", "DELETE"])
    )
    await ven2.ok(
        "POST", "/subscriptions", 201, json=_subscription(receiver.url + "?ven2", ["EVENT"], ["CREATE"])
    )
    bl_hook = _subscription(receiver.url, ["PROGRAM"], ["UPDATE"], clientName="bl")
    await bl.ok("POST", "/subscriptions", 201, json=bl_hook)

    receiver.failures = 2  # the first two attempts fail: the third gets through
    event = await bl.ok("POST", "/events", 201, json=_event(program["id"], targets=["site-a"]))
    await bl.ok("PUT", f"/programs/{program['id']}", json={"programName": "hooks-2"})
    await bl.ok("DELETE", f"/events/{event['id']}")

    await wait_for(lambda: len(receiver.of("EVENT", "DELETE")) == 1, timeout=30, message="no DELETE webhook")
    await wait_for(
        lambda: len(receiver.of("PROGRAM", "UPDATE")) == 1, timeout=30, message="no UPDATE webhook"
    )
    [created] = receiver.of("EVENT", "CREATE")  # ven-2 is not targeted: it hears nothing
    assert created.authorization == "Bearer cb-secret"
    assert created.body["object"]["id"] == event["id"] and created.body["object"]["targets"] == ["site-a"]
    assert receiver.of("PROGRAM", "UPDATE")[0].body["object"]["programName"] == "hooks-2"
    assert receiver.attempts == len(receiver.got) + 2
