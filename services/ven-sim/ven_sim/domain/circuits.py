"""Circuit kinds and their curtailment rules: what each breaker can give back in an event.

Curtailment rules (the "floor" is the lowest power a circuit may be curtailed to, given the
power ``current_kw`` it draws right now):

| type          | rule                                                                     |
|---------------|--------------------------------------------------------------------------|
| ev            | shed fully (floor 0)                                                     |
| water_heater  | shed fully                                                               |
| dryer         | shed fully                                                               |
| pool_pump     | shed fully (the pump can wait; filtration resumes after the event)       |
| hvac          | to 30 % of its current power (compressor duty-cycle limit keeps the fan  |
|               | and some cooling on, so comfort is kept)                                 |
| range         | to 20 % of its current power                                             |
| outlets       | to 30 %                                                                  |
| lighting      | to 50 % (dimming)                                                        |
| refrigerator  | critical: never below its absolute ``floor_kw`` (40 % of its capacity);  |
|               | if it already draws less, nothing is shed                                |
| pv            | never curtailed: it is generation (negative power)                       |
| battery       | "shedding" a battery means: stop charging and discharge at up to its     |
|               | rated power (floor = -capacity_kw) while its state of charge is above    |
|               | ``BATTERY_RESERVE_SOC``; at or below the reserve it can only stop        |
|               | charging (floor = min(current, 0)).                                      |

Default priorities (lower number = shed first): ev 1, water_heater 2, pool_pump 3, dryer 4,
battery 5, hvac 6, range 7, lighting 8, outlets 9, refrigerator 10 (critical: only after every
non-critical circuit is at its floor), pv 99 (never).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BATTERY_RESERVE_SOC = 0.1
"""A battery never discharges below this state of charge (backup reserve)."""

BATTERY_RECHARGE_FRACTION = 0.25
"""Outside a curtailment a battery below full recharges at this fraction of its rated kW."""


class CircuitType(StrEnum):
    """Wire value of a load's ``type``."""

    HVAC = "hvac"
    WATER_HEATER = "water_heater"
    EV = "ev"
    POOL_PUMP = "pool_pump"
    DRYER = "dryer"
    RANGE = "range"
    LIGHTING = "lighting"
    OUTLETS = "outlets"
    REFRIGERATOR = "refrigerator"
    PV = "pv"
    BATTERY = "battery"


@dataclass(frozen=True, slots=True)
class CircuitKind:
    """Static properties shared by every circuit of one type (one object, not per VEN)."""

    type: CircuitType
    name: str
    prefix: str
    priority: int
    critical: bool = False
    curtailable: bool = True
    shed_to_fraction: float = 0.0
    """Lowest share of its current power a curtailment leaves on (0 = shed fully)."""
    floor_fraction_of_capacity: float = 0.0
    """Absolute floor as a share of capacity (critical loads), never curtailed below."""
    volts: int = 240


KINDS: dict[CircuitType, CircuitKind] = {
    k.type: k
    for k in (
        CircuitKind(CircuitType.EV, "EV Charger", "ev", 1),
        CircuitKind(CircuitType.WATER_HEATER, "Water Heater", "wh", 2),
        CircuitKind(CircuitType.POOL_PUMP, "Pool Pump", "pool", 3),
        CircuitKind(CircuitType.DRYER, "Dryer", "dryer", 4),
        CircuitKind(CircuitType.BATTERY, "Battery", "batt", 5),
        CircuitKind(CircuitType.HVAC, "HVAC", "hvac", 6, shed_to_fraction=0.3),
        CircuitKind(CircuitType.RANGE, "Electric Range", "range", 7, shed_to_fraction=0.2),
        CircuitKind(CircuitType.LIGHTING, "Lighting", "light", 8, shed_to_fraction=0.5, volts=120),
        CircuitKind(CircuitType.OUTLETS, "General Outlets", "outlets", 9, shed_to_fraction=0.3, volts=120),
        CircuitKind(
            CircuitType.REFRIGERATOR,
            "Refrigerator",
            "fridge",
            10,
            critical=True,
            floor_fraction_of_capacity=0.4,
            volts=120,
        ),
        CircuitKind(CircuitType.PV, "Solar PV", "pv", 99, curtailable=False),
    )
}

STANDARD_BREAKERS = (15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 125)


def breaker_for(capacity_kw: float, volts: int) -> int:
    """Smallest standard breaker carrying the load at 80 % continuous rating (NEC 125 %)."""
    need = capacity_kw * 1000.0 / volts * 1.25
    for amps in STANDARD_BREAKERS:
        if amps >= need:
            return amps
    return STANDARD_BREAKERS[-1]


@dataclass(slots=True)
class Circuit:
    """One breaker of a panel; mutable because `setLoad` and the battery change it."""

    load_id: str
    kind: CircuitKind
    capacity_kw: float
    breaker_amps: int
    priority: int
    enabled: bool = True
    floor_kw: float = 0.0
    """Absolute floor never curtailed below (critical loads); 0 for the others."""
    soc: float | None = None
    """Battery state of charge 0..1; None for every other type."""
    energy_kwh: float = 0.0
    """Battery energy capacity; 0 for every other type."""

    @property
    def name(self) -> str:
        """Human name shown in acks and telemetry."""
        return self.kind.name

    @property
    def type(self) -> CircuitType:
        """Circuit type (wire value via ``.value``)."""
        return self.kind.type

    @property
    def critical(self) -> bool:
        """Critical loads are curtailed only after every non-critical one, never below floor."""
        return self.kind.critical

    @property
    def curtailable(self) -> bool:
        """False for generation (PV), which is never touched."""
        return self.kind.curtailable

    def floor_of(self, current_kw: float) -> float:
        """Lowest power this circuit may be curtailed to while it draws ``current_kw``."""
        if not self.enabled or not self.kind.curtailable:
            return current_kw
        if self.kind.type is CircuitType.BATTERY:
            if self.soc is not None and self.soc > BATTERY_RESERVE_SOC:
                return min(current_kw, -self.capacity_kw)
            return min(current_kw, 0.0)
        floor = max(self.kind.shed_to_fraction * current_kw, self.floor_kw)
        return min(current_kw, floor)


def make_circuit(
    ctype: CircuitType,
    capacity_kw: float,
    *,
    index: int = 1,
    load_id: str | None = None,
    priority: int | None = None,
    soc: float | None = None,
    energy_kwh: float | None = None,
    enabled: bool = True,
) -> Circuit:
    """Build a circuit with its kind's defaults (breaker, priority, floor, battery fields)."""
    kind = KINDS[ctype]
    is_battery = ctype is CircuitType.BATTERY
    return Circuit(
        load_id=load_id or f"{kind.prefix}{index}",
        kind=kind,
        capacity_kw=capacity_kw,
        breaker_amps=breaker_for(capacity_kw, kind.volts),
        priority=kind.priority if priority is None else priority,
        enabled=enabled,
        floor_kw=round(kind.floor_fraction_of_capacity * capacity_kw, 3),
        soc=(0.5 if soc is None else soc) if is_battery else None,
        energy_kwh=(energy_kwh or 13.5) if is_battery else 0.0,
    )
