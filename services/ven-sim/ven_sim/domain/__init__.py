"""Pure domain model of the VEN simulator: no I/O, no MQTT, no asyncio."""

from .ack_cache import AckCache
from .baseline import BASELINE_WINDOW_S, BaselineBuffer
from .circuits import (
    BATTERY_RECHARGE_FRACTION,
    BATTERY_RESERVE_SOC,
    KINDS,
    Circuit,
    CircuitKind,
    CircuitType,
    make_circuit,
)
from .curtailment import TOLERANCE_KW, CurtailmentEntry, CurtailmentResult, curtail
from .errors import DomainError, InvalidValue, UnknownLoad, Unsupported
from .load_shape import SHAPES, Shape, circuit_kw, noise_key, shape_kw
from .panel import Panel, build_panel
from .ven import ActiveEvent, CircuitSnapshot, LoadShed, SimVen, SiteSnapshot

__all__ = [
    "BASELINE_WINDOW_S",
    "BATTERY_RECHARGE_FRACTION",
    "BATTERY_RESERVE_SOC",
    "KINDS",
    "SHAPES",
    "TOLERANCE_KW",
    "AckCache",
    "ActiveEvent",
    "BaselineBuffer",
    "Circuit",
    "CircuitKind",
    "CircuitSnapshot",
    "CircuitType",
    "CurtailmentEntry",
    "CurtailmentResult",
    "DomainError",
    "InvalidValue",
    "LoadShed",
    "Panel",
    "Shape",
    "SimVen",
    "SiteSnapshot",
    "UnknownLoad",
    "Unsupported",
    "build_panel",
    "circuit_kw",
    "curtail",
    "make_circuit",
    "noise_key",
    "shape_kw",
]
