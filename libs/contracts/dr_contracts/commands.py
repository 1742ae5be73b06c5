"""Commands (docs/contract.md §2): what the platform sends and how a VEN reads them.

Builders produce the exact wire dicts (flat legacy fields AND the `data` object);
`parse_command` reads them the way deployed firmware does, with its fallbacks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationError

from dr_contracts.base import Id, Kw, Model, UtcDatetime, from_unix, to_unix
from dr_contracts.rejection import Rejected, from_validation_error

OPS: frozenset[str] = frozenset(
    {"event", "shedPanel", "restore", "ping", "shedLoad", "setLoad", "get", "set", "setConfig"}
)
EVENT_OPS: frozenset[str] = frozenset({"event", "shedPanel"})


def event_command(
    *,
    ven_id: str,
    event_id: str,
    correlation_id: str,
    shed_kw: float,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """A DR event start, readable by every firmware generation in the field."""
    duration = round((end - start).total_seconds())
    return {
        "op": "event",
        "correlationId": correlation_id,
        "venId": ven_id,
        "eventId": event_id,
        "event_id": event_id,
        "shed_kw": shed_kw,
        "duration_sec": duration,
        "data": {
            "event_id": event_id,
            "requestedReductionKw": shed_kw,
            "duration_s": duration,
            "start_ts": int(to_unix(start)),
            "end_ts": int(to_unix(end)),
        },
    }


def restore_command(*, ven_id: str, event_id: str | None, correlation_id: str) -> dict[str, Any]:
    """Give the loads back (end of event, stop)."""
    body: dict[str, Any] = {"op": "restore", "correlationId": correlation_id, "venId": ven_id}
    if event_id is not None:
        body |= {"eventId": event_id, "event_id": event_id, "data": {"event_id": event_id}}
    return body


def simple_command(
    op: str, *, ven_id: str, correlation_id: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """ping, shedLoad, setLoad, get, set/setConfig."""
    body: dict[str, Any] = {"op": op, "correlationId": correlation_id, "venId": ven_id}
    if data is not None:
        body["data"] = data
    return body


class ShedLoadData(Model):
    loadId: str = Field(min_length=1, max_length=128)
    reduceKw: Kw = Field(gt=0)
    durationS: float = Field(gt=0, le=7 * 86400)
    eventId: str | None = None


class SetLoadData(Model):
    loadId: str = Field(min_length=1, max_length=128)
    enabled: bool | None = None
    capacityKw: Kw | None = Field(default=None, ge=0)
    priority: int | None = Field(default=None, ge=0, le=100)


class GetData(Model):
    what: Literal["status", "config", "loads"]


class SetConfigData(Model):
    report_interval_seconds: float | None = Field(default=None, ge=1, le=86400)
    target_power_kw: Kw | None = None


class Command(Model):
    """A command as a VEN understands it, after the firmware's fallbacks."""

    op: str
    correlationId: str = Field(min_length=1, max_length=256)
    venId: Id | None = None
    eventId: str | None = None
    shedKw: Kw | None = None
    durationS: float | None = Field(default=None, gt=0, le=7 * 86400)
    startTs: UtcDatetime | None = None
    endTs: UtcDatetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)


_DATA_MODELS: dict[str, type[Model]] = {
    "shedLoad": ShedLoadData,
    "setLoad": SetLoadData,
    "get": GetData,
    "set": SetConfigData,
    "setConfig": SetConfigData,
}


def parse_command(obj: dict[str, Any]) -> Command:
    """Read a command like deployed firmware: flat legacy fields first, then `data`."""
    op = obj.get("op")
    if not isinstance(op, str):
        raise Rejected("missing_field" if op is None else "wrong_type", "a command needs a string `op`", "op")
    if op not in OPS:
        raise Rejected("unknown_op", f"unknown op {op!r}; known: {', '.join(sorted(OPS))}"[:200], "op")
    data = obj.get("data", {})
    if not isinstance(data, dict):
        raise Rejected("wrong_type", "`data` must be an object", "data")
    body = {
        "op": op,
        "correlationId": obj.get("correlationId"),
        "venId": obj.get("venId"),
        "eventId": _first(obj.get("event_id"), data.get("event_id"), obj.get("eventId"), data.get("eventId")),
        "shedKw": _first(
            obj.get("shed_kw"), data.get("requestedReductionKw"), obj.get("requestedReductionKw")
        ),
        "durationS": _first(obj.get("duration_sec"), data.get("duration_s"), obj.get("duration_s")),
        "startTs": _ts(data.get("start_ts"), "data.start_ts"),
        "endTs": _ts(data.get("end_ts"), "data.end_ts"),
        "data": data,
    }
    if body["correlationId"] is None:
        raise Rejected("missing_field", "a command needs `correlationId`", "correlationId")
    if op in EVENT_OPS:
        if body["shedKw"] is None:
            raise Rejected(
                "missing_field", "an event needs `shed_kw` or `data.requestedReductionKw`", "shed_kw"
            )
        if body["durationS"] is None and body["endTs"] is None:
            raise Rejected(
                "missing_field", "an event needs `duration_sec` or `data.duration_s`", "duration_sec"
            )
    try:
        command = Command.model_validate(body)
    except ValidationError as err:
        raise from_validation_error(err) from None
    if op in _DATA_MODELS:
        try:
            _DATA_MODELS[op].model_validate(data)
        except ValidationError as err:
            raise from_validation_error(err, prefix="data") from None
    return command


def command_data(command: Command) -> Model | None:
    """The typed `data` of ops that carry one (validated already by parse_command)."""
    model = _DATA_MODELS.get(command.op)
    return model.model_validate(command.data) if model else None


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _ts(value: Any, field: str) -> datetime | None:
    return None if value is None else from_unix(value, field)
