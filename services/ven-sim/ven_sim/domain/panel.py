"""A site's electrical panel: rating and a seeded, reproducible set of circuits."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from .circuits import Circuit, CircuitType, make_circuit
from .errors import UnknownLoad

PANEL_VOLTAGE = 240
PANEL_RATINGS = (100, 150, 200)

# (type, probability) of optional circuits; lighting, outlets, refrigerator and HVAC always.
OPTIONAL = (
    (CircuitType.WATER_HEATER, 0.6),
    (CircuitType.EV, 0.35),
    (CircuitType.POOL_PUMP, 0.2),
    (CircuitType.DRYER, 0.6),
    (CircuitType.RANGE, 0.5),
    (CircuitType.PV, 0.3),
)
BATTERY_WITH_PV = 0.4
BATTERY_WITHOUT_PV = 0.05


@dataclass(slots=True)
class Panel:
    """Main panel: amperage rating at a voltage, and its circuits in breaker order."""

    amps: int
    voltage: int = PANEL_VOLTAGE
    circuits: list[Circuit] = field(default_factory=list)

    @property
    def max_kw(self) -> float:
        """panelMaxKw = amps * volts / 1000."""
        return self.amps * self.voltage / 1000.0

    def circuit(self, load_id: str) -> Circuit:
        """The circuit named ``load_id``; raises UnknownLoad."""
        for c in self.circuits:
            if c.load_id == load_id:
                return c
        raise UnknownLoad(load_id)


def panel_rng(seed: int, ven_id: str) -> random.Random:
    """Private RNG from (seed, venId): stable across processes and independent of call order."""
    digest = hashlib.blake2b(f"panel|{seed}|{ven_id}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "little"))


def build_panel(seed: int, ven_id: str) -> Panel:
    """Random but deterministic panel for (seed, venId)."""
    rng = panel_rng(seed, ven_id)
    amps = rng.choices(PANEL_RATINGS, weights=(0.2, 0.2, 0.6))[0]
    u = rng.uniform
    circuits = [
        make_circuit(CircuitType.HVAC, round(u(2.5, 5.0), 2)),
        make_circuit(CircuitType.LIGHTING, round(u(0.5, 1.5), 2)),
        make_circuit(CircuitType.OUTLETS, round(u(1.0, 2.0), 2)),
        make_circuit(CircuitType.REFRIGERATOR, round(u(0.15, 0.3), 3)),
    ]
    sizes = {
        CircuitType.WATER_HEATER: lambda: round(u(3.8, 5.5), 1),
        CircuitType.EV: lambda: rng.choice((7.2, 9.6, 11.5)),
        CircuitType.POOL_PUMP: lambda: round(u(0.75, 2.0), 2),
        CircuitType.DRYER: lambda: round(u(4.5, 5.6), 1),
        CircuitType.RANGE: lambda: round(u(8.0, 12.0), 1),
        CircuitType.PV: lambda: round(u(3.0, 10.0), 1),
    }
    has_pv = False
    for ctype, p in OPTIONAL:
        if rng.random() < p:
            circuits.append(make_circuit(ctype, sizes[ctype]()))
            has_pv = has_pv or ctype is CircuitType.PV
    if rng.random() < (BATTERY_WITH_PV if has_pv else BATTERY_WITHOUT_PV):
        circuits.append(make_circuit(CircuitType.BATTERY, 5.0, soc=round(u(0.4, 1.0), 2), energy_kwh=13.5))
    return Panel(amps=amps, voltage=PANEL_VOLTAGE, circuits=circuits)
