"""Daily load shapes with hash-based noise, so a circuit's power is a pure function of time.

Noise comes from ``splitmix64(key ^ bucket)`` where ``key`` hashes (seed, venId, loadId) and
``bucket`` is the time bucket; no shared RNG stream, so values do not depend on call order or
on how many VENs share the process. Profiles are indexed by *local* hour (Unix time plus the
VEN's UTC offset) and linearly interpolated between hours.

Two modes:
- continuous (hvac, lighting, outlets, refrigerator, pv): ``capacity * profile * noise``,
  the noise factor being uniform in ``1 +/- amplitude``, constant within a bucket;
- duty (water heater, ev, pool pump, dryer, range): the profile is the probability of being
  on in a bucket; when on, the circuit draws 85..100 % of its capacity.
PV returns negative power (generation); the battery is state-driven (see ``ven.py``) and is 0
here.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from .circuits import CircuitType

_M64 = 0xFFFFFFFFFFFFFFFF
_INV53 = 1.0 / (1 << 53)
_INV32 = 1.0 / (1 << 32)


def noise_key(seed: int, ven_id: str, load_id: str) -> int:
    """Stable 64-bit key of one circuit (blake2b: not salted per process like ``hash``)."""
    raw = f"{seed}|{ven_id}|{load_id}".encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little")


def mix64(x: int) -> int:
    """splitmix64 finalizer: a well-spread 64-bit hash of ``x``."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


@dataclass(frozen=True, slots=True)
class Shape:
    """Daily profile of one circuit type: 24 hourly values, noise and mode."""

    profile: tuple[float, ...]
    bucket_s: int = 60
    amplitude: float = 0.2
    duty: bool = False
    sign: float = 1.0


def _solar() -> tuple[float, ...]:
    """Clear-sky PV output by hour: a half sine from 06:00 to 18:00."""
    return tuple(max(0.0, math.sin(math.pi * (h - 6) / 12)) if 6 <= h <= 18 else 0.0 for h in range(24))


SHAPES: dict[CircuitType, Shape] = {
    CircuitType.HVAC: Shape(
        (
            0.25,
            0.22,
            0.2,
            0.2,
            0.2,
            0.25,
            0.3,
            0.35,
            0.35,
            0.4,
            0.45,
            0.55,
            0.62,
            0.7,
            0.76,
            0.8,
            0.8,
            0.75,
            0.65,
            0.55,
            0.45,
            0.38,
            0.32,
            0.28,
        ),
        amplitude=0.25,
    ),
    CircuitType.WATER_HEATER: Shape(
        (
            0.05,
            0.04,
            0.04,
            0.04,
            0.05,
            0.15,
            0.35,
            0.4,
            0.3,
            0.15,
            0.1,
            0.1,
            0.1,
            0.1,
            0.1,
            0.1,
            0.12,
            0.2,
            0.3,
            0.35,
            0.3,
            0.2,
            0.1,
            0.06,
        ),
        bucket_s=300,
        duty=True,
    ),
    CircuitType.EV: Shape(
        (
            0.7,
            0.7,
            0.65,
            0.6,
            0.5,
            0.35,
            0.15,
            0.05,
            0.02,
            0.02,
            0.02,
            0.03,
            0.03,
            0.03,
            0.03,
            0.05,
            0.08,
            0.15,
            0.25,
            0.3,
            0.35,
            0.45,
            0.6,
            0.7,
        ),
        bucket_s=900,
        duty=True,
    ),
    CircuitType.POOL_PUMP: Shape(
        (
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.1,
            0.7,
            0.9,
            0.9,
            0.9,
            0.9,
            0.9,
            0.9,
            0.7,
            0.2,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ),
        bucket_s=900,
        duty=True,
    ),
    CircuitType.DRYER: Shape(
        (
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.02,
            0.05,
            0.1,
            0.15,
            0.2,
            0.2,
            0.15,
            0.12,
            0.12,
            0.12,
            0.15,
            0.2,
            0.25,
            0.25,
            0.2,
            0.12,
            0.05,
            0.01,
        ),
        bucket_s=600,
        duty=True,
    ),
    CircuitType.RANGE: Shape(
        (
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.02,
            0.1,
            0.15,
            0.08,
            0.03,
            0.03,
            0.08,
            0.1,
            0.05,
            0.03,
            0.03,
            0.1,
            0.35,
            0.45,
            0.3,
            0.1,
            0.03,
            0.01,
            0.0,
        ),
        bucket_s=300,
        duty=True,
    ),
    CircuitType.LIGHTING: Shape(
        (
            0.1,
            0.08,
            0.08,
            0.08,
            0.08,
            0.12,
            0.3,
            0.35,
            0.2,
            0.1,
            0.08,
            0.08,
            0.08,
            0.08,
            0.08,
            0.1,
            0.2,
            0.45,
            0.75,
            0.85,
            0.8,
            0.6,
            0.35,
            0.18,
        ),
        amplitude=0.15,
    ),
    CircuitType.OUTLETS: Shape(
        (
            0.2,
            0.18,
            0.17,
            0.17,
            0.17,
            0.2,
            0.3,
            0.4,
            0.35,
            0.3,
            0.3,
            0.32,
            0.33,
            0.32,
            0.3,
            0.32,
            0.38,
            0.5,
            0.6,
            0.62,
            0.6,
            0.5,
            0.35,
            0.25,
        ),
        amplitude=0.3,
    ),
    CircuitType.REFRIGERATOR: Shape((0.65,) * 12 + (0.75,) * 8 + (0.65,) * 4, amplitude=0.2),
    CircuitType.PV: Shape(_solar(), bucket_s=300, amplitude=0.0, sign=-1.0),
    CircuitType.BATTERY: Shape((0.0,) * 24, amplitude=0.0),
}


def shape_kw(shape: Shape, capacity_kw: float, key: int, now: float, utc_offset_s: float = 0.0) -> float:
    """Natural (uncurtailed) power of one circuit at Unix time ``now``; pure and cheap."""
    hour = ((now + utc_offset_s) % 86400.0) / 3600.0
    i = int(hour)
    prof = shape.profile
    lo = prof[i]
    level = lo + (prof[(i + 1) % 24] - lo) * (hour - i)
    if level <= 0.0:
        return 0.0
    h = mix64(key ^ (int(now // shape.bucket_s) * 0xD1B54A32D192ED03 & _M64))
    if shape.duty:
        if (h >> 11) * _INV53 >= level:
            return 0.0
        return capacity_kw * (0.85 + 0.15 * (h & 0xFFFFFFFF) * _INV32)
    if shape.sign < 0.0:  # PV: clouds take away up to 40 %
        return -capacity_kw * level * (1.0 - 0.4 * (h >> 11) * _INV53)
    kw = capacity_kw * level * (1.0 + shape.amplitude * (2.0 * (h >> 11) * _INV53 - 1.0))
    return capacity_kw if kw > capacity_kw else kw


def circuit_kw(
    seed: int,
    ven_id: str,
    load_id: str,
    ctype: CircuitType,
    capacity_kw: float,
    now: float,
    utc_offset_s: float = 0.0,
) -> float:
    """Convenience form of ``shape_kw`` from raw identifiers (hashes the key on every call)."""
    return shape_kw(SHAPES[ctype], capacity_kw, noise_key(seed, ven_id, load_id), now, utc_offset_s)
