"""Kafka records -> dispatcher calls. Bad records are counted and skipped, never fatal.

`dr.events` facts are fully validated (rare, small). The high-volume `dr.commands` and
`ven.acks` records are read for the few fields the ledger needs, without building models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import structlog
from aiokafka import ConsumerRecord

from dispatcher.service import metrics
from dispatcher.service.dispatcher import Dispatcher
from dr_contracts import jsonio
from dr_contracts.facts import CommandRequested, decode_fact
from dr_contracts.rejection import Rejected

log = structlog.get_logger()

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


def route_events(dispatcher: Dispatcher, records: list[Record]) -> None:
    for rec in records:
        try:
            fact = decode_fact(rec.value or b"")
        except Rejected as err:
            _reject(rec, err.code, err.reason)
            continue
        dispatcher.on_event_fact(fact.payload, rec.partition)


def route_ledger(dispatcher: Dispatcher, acks_topic: str, records: list[Record]) -> None:
    """Records of `dr.commands` or `ven.acks` (one partition's batch)."""
    for rec in records:
        try:
            obj = jsonio.loads(rec.value or b"")
            if rec.topic == acks_topic:
                _ack(dispatcher, obj)
            else:
                _command(dispatcher, obj, rec)
        except Rejected as err:
            _reject(rec, err.code, err.reason)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            _reject(rec, "malformed", repr(err))


def _ack(dispatcher: Dispatcher, obj: dict[str, Any]) -> None:
    if obj["type"] != "AckReceived":
        raise Rejected("unexpected_fact_type", f"{obj['type']!r} on the acks topic")
    payload = obj["payload"]
    ack = payload["ack"]
    if ack.get("correlationId"):
        dispatcher.on_ack(ack["correlationId"], payload["venId"], ack["op"], ack["status"])


def _command(dispatcher: Dispatcher, obj: dict[str, Any], rec: Record) -> None:
    kind, p = obj["type"], obj["payload"]
    if kind == "CommandIssued":
        dispatcher.on_command_issued(
            p["correlationId"],
            p["venId"],
            p["op"],
            p.get("eventId"),
            p["payload"],
            datetime.fromisoformat(p["issuedAt"]),
            int(p["attempt"]),
            rec.partition,
        )
    elif kind == "CommandTimedOut":
        dispatcher.on_command_timed_out(p["correlationId"], p["venId"], p["op"], int(p["attempts"]))
    elif kind == "CommandRequested":
        payload = decode_fact(rec.value or b"").payload
        if not isinstance(payload, CommandRequested):
            raise Rejected("unexpected_fact_type", "CommandRequested did not decode as one")
        dispatcher.on_command_requested(payload, rec.partition)
    else:
        raise Rejected("unexpected_fact_type", f"{kind!r} on the commands topic")


def _reject(rec: Record, code: str, reason: str) -> None:
    metrics.FACTS_REJECTED.labels(rec.topic, code).inc()
    log.warning(
        "fact.rejected",
        topic=rec.topic,
        partition=rec.partition,
        offset=rec.offset,
        code=code,
        reason=reason[:200],
    )
