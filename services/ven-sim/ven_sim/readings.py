"""A domain reading -> the telemetry payload of docs/contract.md §4 (canonical + legacy keys).

Through the contract's `Telemetry` model, so that what the simulator publishes is validated
by the same rules ingest applies and rendered by the one `to_wire()`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dr_contracts import jsonio
from dr_contracts.telemetry import Telemetry


def to_telemetry(reading: dict[str, Any]) -> Telemetry:
    """Validate a `SimVen.reading()` dict as a contract reading."""
    return Telemetry.model_validate(
        reading | {"timestamp": datetime.fromtimestamp(reading["timestamp"], UTC)}
    )


def render_reading(reading: dict[str, Any]) -> bytes:
    """The JSON bytes a VEN publishes for this reading."""
    return jsonio.dumps(to_telemetry(reading).to_wire())
