"""Roles and what each may do: the one home of the API's authorisation rule (docs/security.md).

- `operator`: everything: events (create, stop, cancel), VENs (register, change, delete,
  send a command), and every read;
- `reader`: reads only (dashboards, reports);
- `registrar`: VEN registration only, as the simulator and field installers use it;
- `ven`: an OpenADR 3 VEN client: nothing on this REST API but saying who it is; the
  OpenADR facade maps every role onto the spec's scopes (api.openadr.scopes).
"""

from __future__ import annotations

import enum
from typing import Literal, get_args

Role = Literal["operator", "reader", "registrar", "ven"]
ROLES: tuple[Role, ...] = get_args(Role)


class Access(enum.Enum):
    """What a route does, as far as roles are concerned."""

    IDENTIFY = "say who it is"
    READ = "read the platform's state"
    REGISTER = "register VENs"
    OPERATE = "run events and change VENs"


ALLOWED: dict[Access, frozenset[Role]] = {
    Access.IDENTIFY: frozenset(ROLES),
    Access.READ: frozenset({"operator", "reader"}),
    Access.REGISTER: frozenset({"operator", "registrar"}),
    Access.OPERATE: frozenset({"operator"}),
}


def refusal(role: Role, access: Access) -> str | None:
    """Why `role` may not do `access` (None: it may)."""
    if role in ALLOWED[access]:
        return None
    needed = " or ".join(sorted(ALLOWED[access]))
    return f"role {role!r} may not {access.value}: this needs {needed}"
