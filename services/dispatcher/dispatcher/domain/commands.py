"""The commands an event needs, as wire payloads with their stable correlationIds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dispatcher.domain.events import EventState
from dispatcher.domain.ledger import CommandRecord
from dr_contracts.commands import event_command, restore_command
from dr_contracts.ids import correlation_id


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One command to publish on `ven/cmd/{venId}`."""

    correlation_id: str
    ven_id: str
    op: str
    event_id: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, rec: CommandRecord) -> Outgoing:
        """Re-send what the ledger recorded, byte for byte the same command."""
        return cls(rec.correlation_id, rec.ven_id, rec.op, rec.event_id, rec.payload or {})


def event_commands(state: EventState) -> list[Outgoing]:
    """One `event` command per allocated VEN (none before the activation)."""
    if state.activation is None:
        return []
    eid, start, end = state.event_id, state.shed_start, state.created.endTime
    out = []
    for alloc in state.activation.allocations:
        cid = correlation_id(eid, alloc.venId, "event")
        payload = event_command(
            ven_id=alloc.venId, event_id=eid, correlation_id=cid, shed_kw=alloc.shedKw, start=start, end=end
        )
        out.append(Outgoing(cid, alloc.venId, "event", eid, payload))
    return out


def restore_commands(state: EventState, ven_ids: list[str]) -> list[Outgoing]:
    """One `restore` per VEN in `ven_ids`."""
    eid = state.event_id
    out = []
    for ven_id in ven_ids:
        cid = correlation_id(eid, ven_id, "restore")
        payload = restore_command(ven_id=ven_id, event_id=eid, correlation_id=cid)
        out.append(Outgoing(cid, ven_id, "restore", eid, payload))
    return out
