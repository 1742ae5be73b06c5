"""The VENs of one process: each domain `SimVen` plus what the process adds around it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dr_contracts.acks import AckShape
from ven_sim.domain import AckCache, SimVen
from ven_sim.seeded import unit_hash

SHAPES: tuple[AckShape, ...] = ("A", "B", "C")


@dataclass(slots=True, eq=False)
class VenNode:
    """One simulated VEN: its state machine, ack shape, phase, first acks and schedule."""

    index: int
    sim: SimVen
    shape: AckShape
    phase: float
    """Where in each interval this VEN reports, as a fraction in [0, 1) (jitter)."""
    online: bool = True
    acks: AckCache = field(default_factory=AckCache)
    due: float = 0.0
    """Loop time of the next reading (entries in the schedule with another time are stale)."""
    last_report: dict[str, Any] | None = None
    """The latest reading this VEN published (`Simulator.reports`: the field side of a check)."""

    @property
    def ven_id(self) -> str:
        return self.sim.ven_id


def ack_shape_of(setting: str, index: int) -> AckShape:
    """The configured shape, or A, B, C in turn by VEN index for `mix` (any 3 VENs cover all)."""
    if setting in SHAPES:
        return setting  # type: ignore[return-value]
    return SHAPES[index % len(SHAPES)]


def build_fleet(
    ven_ids: list[str],
    *,
    seed: int,
    ack_shape: str,
    interval_s: float,
    offline: set[str] | frozenset[str] = frozenset(),
) -> list[VenNode]:
    """Deterministic VENs for (seed, venIds): same panels, shapes and phases in every run."""
    return [
        VenNode(
            index=i,
            sim=SimVen(ven_id, seed, report_interval_seconds=interval_s),
            shape=ack_shape_of(ack_shape, i),
            phase=unit_hash(seed, "phase", ven_id),
            online=ven_id not in offline,
        )
        for i, ven_id in enumerate(ven_ids)
    ]
