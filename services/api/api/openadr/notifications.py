"""Which subscriptions hear of a change, and what they are told (docs/openadr.md#subscriptions).

Pure: the notifier (notifier.py) turns each fact into a `Change`, then matches it against the
subscriptions it read. A subscription hears of a change when one of its objectOperations names
the object's type and the operation, its `programID` (if any) is the object's program, and its
`targets` (if any) meet the object's. A VEN's subscription carries only what that VEN may read
(api.openadr.store's rule): its own objects, and programs and events untargeted or targeted at
it, with the other targets hidden. A BL's carries everything.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from api.openadr import event_map
from api.openadr.kinds import hide_targets, shown
from dr_contracts.facts import EventCreated, Fact, OadrObjectDeleted, OadrObjectWritten

Json = dict[str, Any]
#: Kinds a VEN reads by target; the others it reads only when they are its own.
BY_TARGET = frozenset({"PROGRAM", "EVENT"})


@dataclass(frozen=True)
class Change:
    object_type: str
    operation: str  # CREATE | UPDATE | DELETE
    object: Json
    #: The client the object belongs to (its `clientID`).
    owner: str | None
    program_id: str | None
    targets: list[str]


@dataclass(frozen=True)
class Delivery:
    subscription_id: str
    url: str
    token: str | None
    notification: Json


def change_of_object(fact: Fact) -> Change | None:
    """A programs/VEN/resource/report/subscription fact as a change (None: another fact)."""
    p = fact.payload
    if not isinstance(p, OadrObjectWritten | OadrObjectDeleted):
        return None
    if isinstance(p, OadrObjectWritten):
        operation = "UPDATE" if p.createdAt is not None else "CREATE"
        created = p.createdAt or fact.occurredAt
    else:
        operation, created = "DELETE", p.createdAt
    obj = shown(p.objectType, p.objectId, created, fact.occurredAt, p.body)
    program = p.objectId if p.objectType == "PROGRAM" else p.body.get("programID")
    return Change(p.objectType, operation, obj, p.clientId, program, _texts(p.body.get("targets")))


def change_of_event(operation: str, row: Json) -> Change:
    """An event created, or gone (stopped or cancelled: DELETE), from its `events` row."""
    program = row["program_id"] or event_map.DEFAULT_PROGRAM_ID
    return Change("EVENT", operation, event_map.render(row), None, program, event_map.targets_of(row))


def created_event(fact: Fact) -> Change | None:
    if not isinstance(fact.payload, EventCreated):
        return None
    return change_of_event("CREATE", event_map.row_of(fact.payload, fact.occurredAt))


def deliveries(
    change: Change, subscriptions: list[Json], ven_targets: Mapping[str, Collection[str]]
) -> list[Delivery]:
    """Every webhook `change` calls for; `ven_targets`: each VEN subscriber's targets."""
    found = []
    for sub in subscriptions:
        body, owner = sub["body"], sub["client_id"]
        if "programID" in body and body["programID"] != change.program_id:
            continue
        if body.get("targets") and change.targets and not set(body["targets"]) & set(change.targets):
            continue
        shown = change if sub["reads_all"] else _as_seen_by(change, owner, ven_targets.get(owner, ()))
        if shown is None:
            continue
        for op in body["objectOperations"]:
            if change.object_type in op["objects"] and change.operation in op["operations"]:
                notification = {
                    "objectType": change.object_type,
                    "operation": change.operation,
                    "object": shown.object,
                }
                found.append(
                    Delivery(sub["object_id"], op["callbackUrl"], op.get("bearerToken"), notification)
                )
    return found


def _as_seen_by(change: Change, client: str, targets: Collection[str]) -> Change | None:
    """The change as the VEN `client` may see it, or None."""
    if change.object_type not in BY_TARGET:
        return change if change.owner == client else None
    if not change.targets:
        return change
    if not set(change.targets) & set(targets):
        return None
    return replace(change, object=hide_targets(change.object, targets))


def _texts(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
