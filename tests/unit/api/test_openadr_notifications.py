"""Which subscriptions hear of a change and what they are told (api.openadr.notifications)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.openadr.notifications import Change, deliveries

pytestmark = pytest.mark.unit


def _sub(
    owner: str, reads_all: bool, objects: list[str], operations: list[str], **body: Any
) -> dict[str, Any]:
    hook = {
        "objects": objects,
        "operations": operations,
        "callbackUrl": f"https://hooks/{owner}",
        "bearerToken": "t",
    }
    return {
        "object_id": f"s-{owner}",
        "client_id": owner,
        "reads_all": reads_all,
        "body": {"objectOperations": [hook], **body},
    }


def _change(object_type: str = "EVENT", operation: str = "CREATE", **kw: Any) -> Change:
    targets = kw.pop("targets", ["site-a", "site-b"])
    obj = {"id": "x", "createdDateTime": datetime(2026, 1, 1, tzinfo=UTC).isoformat(), "targets": targets}
    return Change(object_type, operation, obj, kw.pop("owner", None), kw.pop("program", "p1"), targets)


def _urls(
    change: Change, subs: list[dict[str, Any]], targets: dict[str, list[str]] | None = None
) -> list[str]:
    return [d.url for d in deliveries(change, subs, targets or {})]


def test_a_bl_hears_of_every_matching_change() -> None:
    bl = _sub("bl", True, ["EVENT"], ["CREATE"])
    assert _urls(_change(), [bl]) == ["https://hooks/bl"]
    assert _urls(_change(operation="DELETE"), [bl]) == []
    assert _urls(_change("PROGRAM"), [bl]) == []


def test_program_and_target_filters() -> None:
    assert _urls(_change(), [_sub("bl", True, ["EVENT"], ["CREATE"], programID="p2")]) == []
    assert _urls(_change(), [_sub("bl", True, ["EVENT"], ["CREATE"], programID="p1")]) == ["https://hooks/bl"]
    assert _urls(_change(), [_sub("bl", True, ["EVENT"], ["CREATE"], targets=["site-z"])]) == []
    assert _urls(_change(), [_sub("bl", True, ["EVENT"], ["CREATE"], targets=["site-b"])]) == [
        "https://hooks/bl"
    ]


def test_a_ven_hears_of_events_targeted_at_it_with_the_others_targets_hidden() -> None:
    ven = _sub("v1", False, ["EVENT"], ["CREATE"])
    [told] = deliveries(_change(), [ven], {"v1": ["site-a"]})
    assert told.notification["object"]["targets"] == ["site-a"] and told.token == "t"
    assert _urls(_change(), [ven], {"v1": ["site-z"]}) == []
    assert _urls(_change(targets=[]), [ven], {}) == ["https://hooks/v1"]  # untargeted: everyone's


def test_a_ven_hears_only_of_its_own_objects() -> None:
    ven = _sub("v1", False, ["REPORT"], ["CREATE"])
    assert _urls(_change("REPORT", owner="v1", targets=[]), [ven]) == ["https://hooks/v1"]
    assert _urls(_change("REPORT", owner="v2", targets=[]), [ven]) == []
