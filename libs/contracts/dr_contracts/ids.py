"""Identifiers that must be stable across retries, restarts and replicas."""

from __future__ import annotations

import secrets
import uuid

#: correlationId suffix per op of an event: the same (event, VEN, op) always gives the same id.
_OP_SUFFIX = {"event": "shed", "shedPanel": "shed", "restore": "restore"}


def new_event_id() -> str:
    """`evt-` + 8 hex, the shape existing clients expect."""
    return f"evt-{secrets.token_hex(4)}"


def new_fact_id() -> str:
    return uuid.uuid4().hex


def correlation_id(event_id: str, ven_id: str, op: str) -> str:
    """Stable id of an event's command to one VEN, e.g. `evt-7f3a9c21-ven-001-shed`."""
    return f"{event_id}-{ven_id}-{_OP_SUFFIX.get(op, op)}"


def direct_correlation_id(ven_id: str) -> str:
    """A one-off command sent outside any event (`send-event`, ping)."""
    return f"cmd-{ven_id}-{secrets.token_hex(6)}"
