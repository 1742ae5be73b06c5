"""The OpenADR objects kept as such, and the rules each kind follows (docs/openadr.md#objects).

Events are not here: they are the platform's events (event_map.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.openadr.scopes import Scope
from dr_contracts.facts import OadrObjectType


@dataclass(frozen=True)
class Kind:
    type: OadrObjectType
    #: How errors name it.
    noun: str
    #: Any of these scopes reads it; any of `write` writes it.
    read: tuple[Scope, ...]
    write: tuple[Scope, ...]
    #: A client without `read_all` sees only its own (else: those untargeted or targeted at it).
    own_only: bool
    #: The body field no two objects of this kind share (None: none).
    unique: str | None = None


PROGRAM = Kind("PROGRAM", "program", ("read_all", "read_targets"), ("write_programs",), False, "programName")
VEN = Kind("VEN", "ven", ("read_all", "read_ven_objects"), ("write_vens",), True, "venName")
#: resourceName is unique per VEN object (venID).
RESOURCE = Kind(
    "RESOURCE", "resource", ("read_all", "read_ven_objects"), ("write_vens",), True, "resourceName"
)
REPORT = Kind("REPORT", "report", ("read_all", "read_ven_objects"), ("write_reports",), True)
SUBSCRIPTION = Kind(
    "SUBSCRIPTION", "subscription", ("read_all", "read_ven_objects"), ("write_subscriptions",), True
)


def shown(
    object_type: str, object_id: str, created: datetime, modified: datetime, body: dict[str, Any]
) -> dict[str, Any]:
    """An object as the spec shows it: metadata first, then the body as sent."""
    return {
        "id": object_id,
        "createdDateTime": created.isoformat(),
        "modificationDateTime": modified.isoformat(),
        "objectType": object_type,
        **body,
    }


def answer(object_type: str, row: dict[str, Any]) -> dict[str, Any]:
    """A stored `oadr_objects` row as the spec shows it."""
    return shown(object_type, row["object_id"], row["created_at"], row["modified_at"], row["body"])


def hide_targets(obj: dict[str, Any], shown: Collection[str] | None) -> dict[str, Any]:
    """`obj` with only the targets in `shown` (None: all): a VEN sees only those granted to it."""
    if shown is None or "targets" not in obj:
        return obj
    return {**obj, "targets": [t for t in obj["targets"] if t in shown]}
