"""Shared model base and field types for wire payloads and facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dr_contracts.rejection import Rejected

#: VEN ids and event ids travel in MQTT topics: no wildcards, separators or spaces.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Kw = Annotated[float, Field(ge=-1_000_000, le=1_000_000)]

#: Oldest and newest Unix seconds a device timestamp may carry (2000..2100).
MIN_TS, MAX_TS = 946_684_800, 4_102_444_800


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must carry a time zone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_aware)]


class Model(BaseModel):
    """Frozen, strict, finite: what every contract model is."""

    model_config = ConfigDict(frozen=True, strict=True, allow_inf_nan=False, extra="forbid")


def from_unix(value: Any, field: str) -> datetime:
    """Unix seconds (int or float) or ISO 8601 with zone -> aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Rejected("wrong_type", f"expected Unix seconds, got {type(value).__name__}", field)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Rejected("invalid_timestamp", f"not a timestamp: {value[:40]!r}", field) from None
        if parsed.tzinfo is None:
            raise Rejected("invalid_timestamp", "timestamp has no time zone", field)
        return parsed.astimezone(UTC)
    if not MIN_TS <= value <= MAX_TS:
        raise Rejected("out_of_range", f"{value} is not Unix seconds between 2000 and 2100", field)
    return datetime.fromtimestamp(value, UTC)


def to_unix(value: datetime) -> float:
    """Aware datetime -> Unix seconds (whole seconds stay ints on the wire)."""
    ts = value.timestamp()
    return int(ts) if ts.is_integer() else ts


def resolve_ven_id(payload_id: Any, topic_id: str | None) -> Any:
    """The venId comes from the payload, else from the topic; the two must agree."""
    if payload_id is None:
        if topic_id is None:
            raise Rejected("missing_ven_id", "no `venId` in the payload and none in the topic", "venId")
        return topic_id
    if topic_id is not None and payload_id != topic_id:
        raise Rejected(
            "ven_id_mismatch", f"payload venId {payload_id!r} differs from topic {topic_id!r}", "venId"
        )
    return payload_id
