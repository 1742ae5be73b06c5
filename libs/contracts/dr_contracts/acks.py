"""Acks (docs/contract.md §3): three field shapes -> one normalized `Ack`, and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationError

from dr_contracts.base import Id, Kw, Model, UtcDatetime, from_unix, resolve_ven_id, to_unix
from dr_contracts.rejection import Rejected, from_validation_error

AckStatus = Literal["accepted", "success", "completed", "rejected", "failed", "error"]
AckShape = Literal["A", "B", "C"]
OK_STATUSES: frozenset[str] = frozenset({"accepted", "success", "completed"})
STATUSES: frozenset[str] = OK_STATUSES | {"rejected", "failed", "error"}


class CircuitCurtailed(Model):
    """One circuit a VEN curtailed; the short form (shape C) has only id, name and shedKw."""

    loadId: str = Field(min_length=1, max_length=128)
    name: str | None = None
    breakerAmps: float | None = None
    originalKw: Kw | None = None
    curtailedKw: Kw | None = None
    finalKw: Kw | None = None
    critical: bool | None = None


class Ack(Model):
    """A VEN's answer to one command, whatever shape it arrived in."""

    venId: Id
    correlationId: str | None = Field(default=None, min_length=1, max_length=256)
    op: str = Field(min_length=1, max_length=64)
    ok: bool
    status: AckStatus
    ts: UtcDatetime
    eventId: str | None = Field(default=None, max_length=256)
    requestedShedKw: Kw | None = None
    actualShedKw: Kw | None = None
    circuitsCurtailed: list[CircuitCurtailed] = Field(default_factory=list, max_length=1000)
    pong: bool | None = None
    reason: str | None = Field(default=None, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict)
    shape: AckShape


_CAMEL_KEYS = ("eventId", "requestedShedKw", "actualShedKw")


def detect_shape(obj: dict[str, Any]) -> AckShape:
    """A: the documented envelope (`ok`); C: camelCase firmware; B: snake_case firmware.

    A B or C ack that carries none of the distinguishing fields (a restore ack, say)
    is the same bytes either way and is reported as B.
    """
    if "ok" in obj:
        return "A"
    circuits = obj.get("circuits_curtailed")
    short_items = isinstance(circuits, list) and any(isinstance(c, dict) and "loadId" in c for c in circuits)
    if short_items or any(k in obj for k in _CAMEL_KEYS):
        return "C"
    return "B"


def normalize_ack(obj: dict[str, Any], topic_ven_id: str | None, received_at: datetime) -> Ack:
    """A decoded ack object -> Ack, or Rejected with the reason."""
    shape = detect_shape(obj)
    op = obj.get("op")
    if op is None:
        raise Rejected("missing_field", "an ack needs `op`", "op")
    ok, status = _outcome(obj.get("ok"), obj.get("status"))
    data = obj.get("data", {})
    if not isinstance(data, dict):
        raise Rejected("wrong_type", f"`data` must be an object, got {type(data).__name__}", "data")
    body: dict[str, Any] = {
        "venId": resolve_ven_id(obj.get("venId"), topic_ven_id),
        "correlationId": obj.get("correlationId"),
        "op": op,
        "ok": ok,
        "status": status,
        "ts": from_unix(obj["ts"], "ts") if obj.get("ts") is not None else received_at,
        "eventId": _first(obj, data, "event_id", "eventId"),
        "requestedShedKw": _first(obj, data, "requested_shed_kw", "requestedShedKw"),
        "actualShedKw": _first(obj, data, "actual_shed_kw", "actualShedKw", "shedAmount"),
        "circuitsCurtailed": _circuits(_first(obj, data, "circuits_curtailed", "circuitsCurtailed") or []),
        "pong": obj.get("pong", data.get("pong")),
        "reason": _first(obj, data, "reason", "error", "message"),
        "data": data,
        "shape": shape,
    }
    try:
        return Ack.model_validate(body)
    except ValidationError as err:
        raise from_validation_error(err) from None


def _outcome(ok: Any, status: Any) -> tuple[bool, str]:
    if ok is None and status is None:
        raise Rejected("missing_field", "an ack needs `ok` or `status`", "status")
    if ok is not None and not isinstance(ok, bool):
        raise Rejected("wrong_type", f"`ok` must be true or false, got {ok!r}"[:120], "ok")
    if status is not None:
        if not isinstance(status, str) or status.lower() not in STATUSES:
            allowed = ", ".join(sorted(STATUSES))
            raise Rejected("invalid_value", f"`status` {status!r} is not one of {allowed}"[:200], "status")
        status = status.lower()
        if ok is not None and ok != (status in OK_STATUSES):
            raise Rejected("outcome_conflict", f"`ok`={ok} contradicts `status`={status!r}", "ok")
        return status in OK_STATUSES, status
    return bool(ok), "success" if ok else "failed"


def _first(obj: dict[str, Any], data: dict[str, Any], *keys: str) -> Any:
    for source in (obj, data):
        for key in keys:
            if source.get(key) is not None:
                return source[key]
    return None


_LONG = {
    "id": "loadId",
    "breaker_amps": "breakerAmps",
    "original_kw": "originalKw",
    "curtailed_kw": "curtailedKw",
    "final_kw": "finalKw",
    "shedKw": "curtailedKw",
}


def _circuits(items: Any) -> Any:
    """Long snake_case items (shape B) and short camelCase items (shape C) -> CircuitCurtailed."""
    if not isinstance(items, list):
        return items
    return [
        {_LONG.get(k, k): v for k, v in item.items()} if isinstance(item, dict) else item for item in items
    ]


def ack_payload(ack: Ack) -> dict[str, Any]:
    """Render an Ack the way a field device of its `shape` would publish it."""
    ts = to_unix(ack.ts)
    extra: dict[str, Any] = {}
    if ack.pong is not None:
        extra["pong"] = ack.pong
    if ack.reason is not None:
        extra["reason"] = ack.reason
    if ack.shape == "A":
        data = dict(ack.data)
        for key, value in (
            ("eventId", ack.eventId),
            ("requestedShedKw", ack.requestedShedKw),
            ("shedAmount", ack.actualShedKw),
        ):
            if value is not None:
                data[key] = value
        if ack.circuitsCurtailed:
            data["circuitsCurtailed"] = [_short(c) for c in ack.circuitsCurtailed]
        body: dict[str, Any] = {
            "op": ack.op,
            "correlationId": ack.correlationId,
            "ok": ack.ok,
            "ts": ts,
            "venId": ack.venId,
            "data": data,
        }
        if ack.status != ("success" if ack.ok else "failed"):
            body["status"] = ack.status
        return body | extra
    body = {"op": ack.op, "status": ack.status, "ts": ts, "correlationId": ack.correlationId}
    if ack.data:
        body["data"] = dict(ack.data)
    if ack.shape == "B":
        fields = {
            "event_id": ack.eventId,
            "requested_shed_kw": ack.requestedShedKw,
            "actual_shed_kw": ack.actualShedKw,
        }
        circuits: list[dict[str, Any]] = [_long(c) for c in ack.circuitsCurtailed]
    else:
        fields = {
            "eventId": ack.eventId,
            "requestedShedKw": ack.requestedShedKw,
            "actualShedKw": ack.actualShedKw,
        }
        circuits = [_short(c) for c in ack.circuitsCurtailed]
    body |= {k: v for k, v in fields.items() if v is not None}
    if circuits:
        body["circuits_curtailed"] = circuits
    return body | extra


def _long(c: CircuitCurtailed) -> dict[str, Any]:
    out = {
        "id": c.loadId,
        "name": c.name,
        "breaker_amps": c.breakerAmps,
        "original_kw": c.originalKw,
        "curtailed_kw": c.curtailedKw,
        "final_kw": c.finalKw,
        "critical": c.critical,
    }
    return {k: v for k, v in out.items() if v is not None}


def _short(c: CircuitCurtailed) -> dict[str, Any]:
    out = {"loadId": c.loadId, "name": c.name, "shedKw": c.curtailedKw}
    return {k: v for k, v in out.items() if v is not None}
