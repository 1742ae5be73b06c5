"""One command in, one ack out: decode, de-duplicate, parse, apply to the VEN, render the ack.

Pure (no I/O, `now` passed in), so every op and the idempotency rule are unit-tested here:
a correlationId seen before gets its first ack back and nothing is applied again; input
that cannot be read gets a `rejected` ack with the reason, and the VEN keeps running.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from dr_contracts.acks import Ack, CircuitCurtailed, ack_payload
from dr_contracts.base import to_unix
from dr_contracts.commands import (
    Command,
    GetData,
    SetConfigData,
    SetLoadData,
    ShedLoadData,
    command_data,
    parse_command,
)
from dr_contracts.rejection import Rejected, decode_object
from ven_sim.domain import CurtailmentEntry, DomainError, SimVen
from ven_sim.fleet import VenNode

AckBody = dict[str, Any]
T = TypeVar("T")
MAX_EVENT_ID = 256
SIMULATED_REJECTION = "simulated: command refused (fault injection, reject_rate)"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What handling one command produced; `ack` is the wire payload to publish."""

    ack: AckBody
    correlation_id: str | None
    op: str
    applied: bool = False
    replayed: bool = False
    rejected: bool = False
    malformed: bool = False


def handle_command(
    node: VenNode, raw: bytes, now: float, *, refuse: Callable[[], bool] = lambda: False
) -> Outcome:
    """Answer one command payload for `node`; `refuse()` says whether to inject a rejection."""
    try:
        obj = decode_object(raw)
    except Rejected as err:
        return _refused(node, None, None, err.reason, now, malformed=True)
    cid = _readable_cid(obj.get("correlationId"))
    op = obj.get("op") if isinstance(obj.get("op"), str) else None
    first = node.acks.get(cid) if cid is not None else None
    if first is not None:
        return Outcome(first, cid, op or "unknown", replayed=True)
    try:
        command = parse_command(obj)
        if command.venId is not None and command.venId != node.ven_id:
            raise Rejected("ven_id_mismatch", f"command for {command.venId!r} on {node.ven_id!r}", "venId")
    except Rejected as err:
        return _remember(node, _refused(node, cid, op, err.reason, now, malformed=True))
    if refuse():
        return _remember(node, _refused(node, cid, op, SIMULATED_REJECTION, now))
    try:
        fields = OPS[command.op](node.sim, command, now)
    except (DomainError, Rejected) as err:
        return _remember(node, _refused(node, cid, op, err.reason, now))
    ack = _render(node, command.correlationId, command.op, now, ok=True, **fields)
    return _remember(node, Outcome(ack, command.correlationId, command.op, applied=True))


def _remember(node: VenNode, outcome: Outcome) -> Outcome:
    """Cache the first ack of a correlationId (rejections included: they are replayed too)."""
    if outcome.correlation_id is not None:
        node.acks.put(outcome.correlation_id, outcome.ack)
    return outcome


def _readable_cid(value: Any) -> str | None:
    return value if isinstance(value, str) and 1 <= len(value) <= 256 else None


def _refused(
    node: VenNode, cid: str | None, op: str | None, reason: str, now: float, *, malformed: bool = False
) -> Outcome:
    name = (op or "unknown")[:64] or "unknown"
    ack = _render(node, cid, name, now, ok=False, status="rejected", reason=reason[:2000])
    return Outcome(ack, cid, name, rejected=True, malformed=malformed)


def _render(node: VenNode, cid: str | None, op: str, now: float, *, ok: bool, **fields: Any) -> AckBody:
    fields.setdefault("status", "accepted" if ok else "rejected")
    ack = Ack(
        venId=node.ven_id,
        correlationId=cid,
        op=op,
        ok=ok,
        ts=datetime.fromtimestamp(round(now, 3), UTC),
        shape=node.shape,
        **fields,
    )
    return ack_payload(ack)


# ---- ops: each returns the ack fields of a successful application -------------------------


def _event_id(value: str | None, field: str) -> str | None:
    """Event ids go back in the ack, which caps them: refuse longer ones before applying."""
    if value is not None and len(value) > MAX_EVENT_ID:
        raise Rejected("too_long", f"event id longer than {MAX_EVENT_ID} characters", field)
    return value


def _event(ven: SimVen, cmd: Command, now: float) -> dict[str, Any]:
    event_id = _event_id(cmd.eventId, "event_id")
    if not event_id:
        raise Rejected("missing_field", "an event needs `event_id` or `data.event_id`", "event_id")
    assert cmd.shedKw is not None  # parse_command guarantees shed and duration or end
    start = to_unix(cmd.startTs) if cmd.startTs else now
    end = to_unix(cmd.endTs) if cmd.endTs else start + (cmd.durationS or 0.0)
    result = ven.start_event(event_id, cmd.shedKw, start, end, now)
    return {
        "eventId": event_id,
        "requestedShedKw": float(cmd.shedKw),
        "actualShedKw": round(result.actual_shed_kw, 3),
        "circuitsCurtailed": [_circuit(e) for e in result.curtailed],
    }


def _restore(ven: SimVen, cmd: Command, now: float) -> dict[str, Any]:
    asked = _event_id(cmd.eventId, "event_id")
    return {"status": "success", "eventId": ven.restore(now) or asked}


def _ping(ven: SimVen, cmd: Command, now: float) -> dict[str, Any]:
    return {"status": "success", "pong": True}


def _shed_load(ven: SimVen, cmd: Command, now: float) -> dict[str, Any]:
    data = _data(cmd, ShedLoadData)
    event_id = _event_id(data.eventId, "data.eventId")
    entry = ven.shed_load(data.loadId, data.reduceKw, data.durationS, now)
    return {
        "eventId": event_id,
        "requestedShedKw": float(data.reduceKw),
        "actualShedKw": round(entry.curtailed_kw, 3),
        "circuitsCurtailed": [_circuit(entry)] if entry.curtailed_kw > 0 else [],
    }


def _set_load(ven: SimVen, cmd: Command, now: float) -> dict[str, Any]:
    data = _data(cmd, SetLoadData)
    load = ven.set_load(data.loadId, data.enabled, data.capacityKw, data.priority)
    return {"status": "success", "data": {"load": load}}


def _get(ven: SimVen, cmd: Command, now: float) -> dict[str, Any]:
    what = _data(cmd, GetData).what
    answers = {"status": lambda: ven.status(now), "config": ven.config, "loads": lambda: ven.loads(now)}
    return {"status": "success", "data": {what: answers[what]()}}


def _set_config(ven: SimVen, cmd: Command, now: float) -> dict[str, Any]:
    data = _data(cmd, SetConfigData)
    config = ven.set_config(data.report_interval_seconds, data.target_power_kw)
    return {"status": "success", "data": {"config": config}}


OPS: dict[str, Callable[[SimVen, Command, float], dict[str, Any]]] = {
    "event": _event,
    "shedPanel": _event,
    "restore": _restore,
    "ping": _ping,
    "shedLoad": _shed_load,
    "setLoad": _set_load,
    "get": _get,
    "set": _set_config,
    "setConfig": _set_config,
}


def _data(cmd: Command, model: type[T]) -> T:
    data = command_data(cmd)
    assert isinstance(data, model)  # parse_command validated `data` against this model
    return data


def _circuit(entry: CurtailmentEntry) -> CircuitCurtailed:
    return CircuitCurtailed(
        loadId=entry.load_id,
        name=entry.name,
        breakerAmps=float(entry.breaker_amps),
        originalKw=round(entry.original_kw, 3),
        curtailedKw=round(entry.curtailed_kw, 3),
        finalKw=round(entry.final_kw, 3),
        critical=entry.critical,
    )
