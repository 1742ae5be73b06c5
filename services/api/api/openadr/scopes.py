"""Who may do what over OpenADR 3: the platform's roles mapped onto the spec's scopes.

One home for the rule (docs/openadr.md#auth). A BL (business logic: the utility) reads
everything; a VEN reads the events and programs targeted at it and only its own VEN,
resource, report and subscription objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from api.domain.access import Role

Scope = Literal[
    "read_all",
    "read_targets",
    "read_ven_objects",
    "write_programs",
    "write_events",
    "write_reports",
    "write_subscriptions",
    "write_vens",
]
SCOPES: tuple[Scope, ...] = get_args(Scope)

BL_SCOPES: frozenset[Scope] = frozenset(
    {"read_all", "write_programs", "write_events", "write_vens", "write_subscriptions"}
)
VEN_SCOPES: frozenset[Scope] = frozenset(
    {"read_targets", "read_ven_objects", "write_reports", "write_subscriptions", "write_vens"}
)
#: `registrar` registers VENs over MQTT/REST: it has no part in OpenADR (403 everywhere).
GRANTED: dict[Role, frozenset[Scope]] = {
    "operator": BL_SCOPES,
    "reader": frozenset({"read_all"}),
    "registrar": frozenset(),
    "ven": VEN_SCOPES,
}


@dataclass(frozen=True)
class Caller:
    """An authenticated OpenADR client: its `clientID` (the token's subject) and scopes."""

    client_id: str
    scopes: frozenset[Scope]

    @property
    def is_bl(self) -> bool:
        """A BL sees every object; anyone else only its own and those targeted at it."""
        return "read_all" in self.scopes

    def lacks(self, *any_of: Scope) -> str | None:
        """Why this caller may not do what needs one of `any_of` (None: it may)."""
        if self.scopes.intersection(any_of):
            return None
        return f"this needs the scope {' or '.join(any_of)}"


def caller(client_id: str, role: Role) -> Caller:
    return Caller(client_id, GRANTED[role])


def ungranted(role: Role, requested: list[str]) -> list[str]:
    """Of the scopes a token request names, those the role does not hold (unknown ones too)."""
    return [s for s in requested if s not in GRANTED[role]]
