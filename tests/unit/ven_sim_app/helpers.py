"""Builders shared by the simulator-process unit tests (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dr_contracts import jsonio
from dr_contracts.commands import event_command, restore_command, simple_command
from ven_sim.fleet import VenNode, build_fleet

T0 = 1_760_997_600.0  # 2025-10-20 22:00 UTC: evening, most circuits draw power
VEN = "ven-001"


def node(shape: str = "A", ven_id: str = VEN) -> VenNode:
    return build_fleet([ven_id], seed=7, ack_shape=shape, interval_s=5.0)[0]


def event(
    cid: str = "evt-1-ven-001-shed",
    shed_kw: float = 2.0,
    ven_id: str = VEN,
    start: float = T0,
    duration_s: float = 600,
) -> bytes:
    begin = datetime.fromtimestamp(start, UTC)
    return jsonio.dumps(
        event_command(
            ven_id=ven_id,
            event_id="evt-1",
            correlation_id=cid,
            shed_kw=shed_kw,
            start=begin,
            end=begin + timedelta(seconds=duration_s),
        )
    )


def restore(cid: str = "evt-1-ven-001-restore") -> bytes:
    return jsonio.dumps(restore_command(ven_id=VEN, event_id="evt-1", correlation_id=cid))


def command(op: str, cid: str, data: dict[str, Any] | None = None) -> bytes:
    return jsonio.dumps(simple_command(op, ven_id=VEN, correlation_id=cid, data=data))
