"""`GET /api/events/{id}/acks`: the table of an event's VENs, and how a client may sort it.

Decisions:
- `sort` names one column, prefixed by `-` for descending; anything else is refused (422)
  rather than ignored, so a typo does not silently show another order.
- Nulls sort last both ways: a VEN that has not answered is neither the fastest nor the slowest.
- Ties are broken by venId (ascending), so the order is total and pages never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from api.domain.errors import Invalid, Problem

#: A row's status: before any command (`targeted`: not activated, `allocated`: not yet
#: commanded), then the outcome of the VEN's event command.
AckStatus = Literal["targeted", "allocated", "pending", "acked", "rejected", "failed", "timed_out"]
SortKey = Literal["venId", "venName", "shedKw", "actualShedKw", "responseMs", "status"]

_KEYS: dict[str, SortKey] = {key: key for key in get_args(SortKey)}
DEFAULT_SORT = "venId"
#: Every value `sort` accepts, for the OpenAPI document.
SORTS: tuple[str, ...] = tuple(f"{sign}{key}" for key in _KEYS for sign in ("", "-"))


@dataclass(frozen=True)
class SortTerm:
    key: SortKey
    descending: bool = False


def parse_sort(text: str) -> tuple[SortTerm, ...]:
    """`-shedKw` -> shedKw descending then venId; Invalid (naming `sort`) for anything else."""
    key = _KEYS.get(text.removeprefix("-"))
    if key is None:
        reason = f"must be one of {', '.join(_KEYS)}, optionally prefixed by `-` for descending"
        raise Invalid([Problem("sort", reason, "invalid_value")])
    term = SortTerm(key, descending=text.startswith("-"))
    return (term,) if key == "venId" else (term, SortTerm("venId"))
