"""Priority curtailment: which circuits give back how much to meet a requested reduction.

Order: non-critical curtailable circuits by (priority, loadId), then critical ones the same
way; PV (and anything not curtailable) is never touched. Each circuit goes down at most to its
rule's floor (see ``circuits.py``).

Partial step: every circuit is treated as continuously adjustable (EV charge rate, HVAC duty
cycle, dimming, battery discharge rate...), so the last circuit is shed only by what is still
missing. The total therefore never exceeds the request by more than ``TOLERANCE_KW`` (float
rounding); when the site cannot give enough, it sheds everything it can (``shortfall_kw`` > 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .circuits import Circuit
from .errors import check_number

TOLERANCE_KW = 1e-9
"""Overshoot allowed on the last (partial) step: float rounding only."""


@dataclass(frozen=True, slots=True)
class CurtailmentEntry:
    """What one circuit gave back; ``to_ack`` is the firmware's ``circuits_curtailed`` item."""

    load_id: str
    name: str
    breaker_amps: int
    original_kw: float
    curtailed_kw: float
    final_kw: float
    critical: bool
    priority: int

    def to_ack(self) -> dict[str, object]:
        """Ack item (shape B, plus ``loadId``), kW rounded to 3 decimals."""
        return {
            "id": self.load_id,
            "loadId": self.load_id,
            "name": self.name,
            "breaker_amps": self.breaker_amps,
            "original_kw": round(self.original_kw, 3),
            "curtailed_kw": round(self.curtailed_kw, 3),
            "final_kw": round(self.final_kw, 3),
            "critical": self.critical,
        }


@dataclass(frozen=True, slots=True)
class CurtailmentResult:
    """Outcome of one curtailment: an entry per input circuit, in shed order."""

    requested_kw: float
    actual_shed_kw: float
    entries: tuple[CurtailmentEntry, ...]

    @property
    def curtailed(self) -> tuple[CurtailmentEntry, ...]:
        """Only the circuits that gave something back, in shed order."""
        return tuple(e for e in self.entries if e.curtailed_kw > 0.0)

    @property
    def shortfall_kw(self) -> float:
        """Requested kW the site could not give (0 when fully met)."""
        return max(0.0, self.requested_kw - self.actual_shed_kw)

    def caps(self) -> dict[str, float]:
        """loadId -> power cap to hold during the event (curtailed circuits only)."""
        return {e.load_id: e.final_kw for e in self.entries if e.curtailed_kw > 0.0}

    def circuits_curtailed(self) -> list[dict[str, object]]:
        """The ack's ``circuits_curtailed`` list."""
        return [e.to_ack() for e in self.curtailed]


def shed_order_key(circuit: Circuit) -> tuple[int, int, int, str]:
    """Sort key: curtailable before not, non-critical before critical, then priority, id."""
    return (not circuit.curtailable, circuit.critical, circuit.priority, circuit.load_id)


def curtail(
    circuits_with_current_kw: Iterable[tuple[Circuit, float]], requested_kw: float
) -> CurtailmentResult:
    """Shed up to ``requested_kw`` from circuits drawing the given current kW, by priority."""
    requested = check_number("requested_kw", requested_kw)
    pairs = sorted(circuits_with_current_kw, key=lambda p: shed_order_key(p[0]))
    remaining = requested
    entries: list[CurtailmentEntry] = []
    for circuit, current in pairs:
        take = 0.0
        final = current
        if remaining > TOLERANCE_KW and circuit.curtailable and circuit.enabled:
            floor = circuit.floor_of(current)
            available = current - floor
            if available > 0.0:
                if available <= remaining:  # full step: land exactly on the floor
                    take, final = available, floor
                else:  # last, partial step
                    take, final = remaining, current - remaining
                remaining -= take
        entries.append(
            CurtailmentEntry(
                load_id=circuit.load_id,
                name=circuit.name,
                breaker_amps=circuit.breaker_amps,
                original_kw=current,
                curtailed_kw=take,
                final_kw=final,
                critical=circuit.critical,
                priority=circuit.priority,
            )
        )
    actual = sum(e.curtailed_kw for e in entries)
    return CurtailmentResult(requested_kw=requested, actual_shed_kw=actual, entries=tuple(entries))
