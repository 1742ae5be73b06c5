"""Split an event's requested kW over its VENs by shed capability (water-filling).

Each VEN gets a share proportional to its weight: its capability when known, else the
mean known capability (1 when none is known), so unknown VENs get an even split. A VEN
never gets more than its known capability; what a capped VEN cannot take is spread over
the others, and what nobody can take is reported as unallocated. Shares are whole watts
(largest remainder rounding), so they add up to the request without exceeding it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_PRECISION = 1000  # kW -> W


@dataclass(frozen=True, slots=True)
class Candidate:
    """A VEN that may take part, with what it can shed (None: unknown)."""

    ven_id: str
    capability_kw: float | None


@dataclass(frozen=True, slots=True)
class Share:
    ven_id: str
    shed_kw: float
    capability_kw: float | None


@dataclass(frozen=True, slots=True)
class AllocationResult:
    shares: tuple[Share, ...]
    unallocated_kw: float


def allocate(requested_kw: float, candidates: list[Candidate]) -> AllocationResult:
    """Allocate `requested_kw`; VENs that get nothing (capability 0) are left out."""
    raw = _water_fill(max(requested_kw, 0.0), candidates)
    watts = _round_to_watts(raw, candidates)
    shares = tuple(
        Share(c.ven_id, w / _PRECISION, c.capability_kw)
        for c, w in zip(candidates, watts, strict=True)
        if w > 0
    )
    unallocated = max(requested_kw - sum(watts) / _PRECISION, 0.0)
    return AllocationResult(shares, round(unallocated, 3))


def _water_fill(requested: float, candidates: list[Candidate]) -> list[float]:
    caps = [math.inf if c.capability_kw is None else _watts_or_zero(c.capability_kw) for c in candidates]
    known = [cap for cap in caps if cap != math.inf]
    mean = sum(known) / len(known) if known else 0.0
    default_weight = mean if mean > 0 else 1.0
    weights = [default_weight if cap == math.inf else cap for cap in caps]
    out = [0.0] * len(candidates)
    open_ = {i for i, w in enumerate(weights) if w > 0}
    remaining = requested
    while open_ and remaining > 1e-9:
        total = sum(weights[i] for i in open_)
        capped = {i for i in open_ if remaining * weights[i] / total >= caps[i] - out[i]}
        if not capped:
            for i in open_:
                out[i] += remaining * weights[i] / total
            return out
        for i in capped:
            remaining -= caps[i] - out[i]
            out[i] = caps[i]
        open_ -= capped
    return out


def _watts_or_zero(kw: float) -> float:
    """Less than a watt (or negative) is nothing to shed."""
    return kw if kw >= 1 / _PRECISION else 0.0


def _round_to_watts(raw: list[float], candidates: list[Candidate]) -> list[int]:
    """Largest-remainder rounding: whole watts that add up to the raw total, within caps."""
    units = [x * _PRECISION for x in raw]
    watts = [math.floor(u + 1e-6) for u in units]
    left = math.floor(sum(units) + 1e-6) - sum(watts)
    by_remainder = sorted(range(len(units)), key=lambda i: watts[i] - units[i])
    for i in by_remainder:
        if left <= 0:
            break
        cap = candidates[i].capability_kw
        if units[i] > watts[i] and (cap is None or watts[i] + 1 <= cap * _PRECISION + 1e-6):
            watts[i] += 1
            left -= 1
    return watts
