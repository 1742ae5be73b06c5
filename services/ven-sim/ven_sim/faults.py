"""Fault knobs: offline VENs, dropped, delayed or rejected acks, malformed readings.

Seeded: the offline set is a stable function of (seed, venId); per-message faults come from
one `random.Random(seed)` stream, so a run with the same traffic repeats its faults.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dr_contracts import jsonio
from ven_sim.seeded import unit_hash


@dataclass(frozen=True, slots=True)
class Delay:
    """Ack delay in ms: fixed `a`, uniform in [a, b], or exponential with mean `a`."""

    kind: Literal["fixed", "uniform", "exp"]
    a: float
    b: float = 0.0

    def sample_s(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.a / 1000
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b) / 1000
        return rng.expovariate(1 / self.a) / 1000 if self.a > 0 else 0.0


def parse_delay(spec: str) -> Delay:
    """`"250"` (fixed ms), `"100,900"` (uniform ms) or `"exp:300"` (exponential, mean ms)."""
    text = spec.strip().lower()
    try:
        if text.startswith("exp:"):
            delay = Delay("exp", float(text[4:]))
        elif "," in text:
            low, high = (float(part) for part in text.split(","))
            delay = Delay("uniform", low, high)
        else:
            delay = Delay("fixed", float(text))
    except ValueError:
        raise ValueError(f"ack delay {spec!r}: expected `ms`, `min,max` or `exp:mean`") from None
    if delay.a < 0 or delay.b < 0 or (delay.kind == "uniform" and delay.b < delay.a):
        raise ValueError(f"ack delay {spec!r}: delays must be >= 0 and min <= max")
    return delay


def _truncated(ven_id: str, ts: int) -> bytes:
    return f'{{"venId": "{ven_id}", "timestamp": {ts}, "usedPowerKw": '.encode()


def _not_finite(ven_id: str, ts: int) -> bytes:
    return f'{{"venId": "{ven_id}", "timestamp": {ts}, "usedPowerKw": NaN}}'.encode()


def _no_power(ven_id: str, ts: int) -> bytes:
    return jsonio.dumps({"venId": ven_id, "timestamp": ts})


def _not_object(ven_id: str, ts: int) -> bytes:
    return jsonio.dumps([ven_id, ts])


def _wrong_type(ven_id: str, ts: int) -> bytes:
    return jsonio.dumps({"venId": ven_id, "timestamp": ts, "usedPowerKw": "lots"})


#: Bad readings seen from broken firmware; each must be rejected by ingest with a reason.
MALFORMED: tuple[Callable[[str, int], bytes], ...] = (
    _truncated,
    _not_finite,
    _no_power,
    _not_object,
    _wrong_type,
)


@dataclass
class Faults:
    """Decides, message by message, which faults to inject."""

    seed: int = 0
    offline_fraction: float = 0.0
    ack_drop_rate: float = 0.0
    ack_delay: Delay = Delay("fixed", 0.0)
    reject_rate: float = 0.0
    malformed_rate: float = 0.0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def is_offline(self, ven_id: str) -> bool:
        """Stable: the same VENs are offline in every run with this seed and fraction."""
        return unit_hash(self.seed, "offline", ven_id) < self.offline_fraction

    def drop_ack(self) -> bool:
        return self.ack_drop_rate > 0 and self._rng.random() < self.ack_drop_rate

    def ack_delay_s(self) -> float:
        return self.ack_delay.sample_s(self._rng)

    def reject(self) -> bool:
        return self.reject_rate > 0 and self._rng.random() < self.reject_rate

    def malformed(self, ven_id: str, ts: int) -> bytes | None:
        """A malformed payload to publish instead of this reading, or None."""
        if self.malformed_rate <= 0 or self._rng.random() >= self.malformed_rate:
            return None
        return self._rng.choice(MALFORMED)(ven_id, ts)
