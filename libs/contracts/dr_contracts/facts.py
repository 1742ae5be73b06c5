"""Kafka facts (docs/architecture.md): the envelope and every fact type, in the past tense.

A fact on the wire is `{factId, type, schemaVersion, occurredAt, key, payload}`.
Each payload class names its fact `type`, the base topic it belongs to and the
record key that keeps one VEN's (or one event's) facts in order on a partition.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SerializeAsAny, ValidationError

from dr_contracts import jsonio, topics
from dr_contracts.acks import Ack
from dr_contracts.base import Id, Kw, Model, UtcDatetime
from dr_contracts.ids import new_fact_id
from dr_contracts.rejection import Rejected, from_validation_error
from dr_contracts.telemetry import Telemetry

SCHEMA_VERSION = 1


class FactPayload(Model):
    """Base of every fact payload."""

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]

    def key(self) -> str:
        raise NotImplementedError


class _EventFact(FactPayload):
    TOPIC = topics.DR_EVENTS
    eventId: Id

    def key(self) -> str:
        return self.eventId


class _VenFact(FactPayload):
    venId: Id

    def key(self) -> str:
        return self.venId


# -- dr.events (key: eventId) ---------------------------------------------------------------


#: An OpenADR 3 object id (its `objectID`: letters, digits, `_` and `-`).
OadrId = Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,128}$")]


class EventCreated(_EventFact):
    TYPE = "EventCreated"
    startTime: UtcDatetime
    endTime: UtcDatetime
    requestedReductionKw: Kw
    venIds: list[Id] | None = None
    #: The client asked for `status: active`: start as soon as the dispatcher sees it.
    startNow: bool = False
    #: The OpenADR 3 program the event belongs to (None: the platform's default program).
    programId: OadrId | None = None
    #: The OpenADR 3 event object as its client sent it (nulls dropped, no metadata), when it
    #: was created over the OpenADR facade: served back as sent (docs/openadr.md).
    openadr: dict[str, Any] | None = None


class EventAmended(_EventFact):
    """An OpenADR client replaced the event's object (PUT) without changing what the platform
    runs (start, end, kW, VENs, program): its name, priority, descriptors. The dispatcher ignores it."""

    TYPE = "EventAmended"
    openadr: dict[str, Any]


class EventCancelled(_EventFact):
    TYPE = "EventCancelled"
    reason: str | None = None


class EventStopRequested(_EventFact):
    TYPE = "EventStopRequested"
    reason: str | None = None


class Allocation(Model):
    venId: Id
    shedKw: Kw
    #: What the VEN could shed according to its latest telemetry (None: unknown).
    capabilityKw: Kw | None = None


class EventActivated(_EventFact):
    TYPE = "EventActivated"
    activatedAt: UtcDatetime
    allocations: list[Allocation]
    unallocatedKw: Kw = 0.0


class EventCompleted(_EventFact):
    TYPE = "EventCompleted"
    completedAt: UtcDatetime
    #: `completed` at the planned end, `stopped` when ended early.
    outcome: Literal["completed", "stopped"] = "completed"


# -- ven.registry (key: venId) --------------------------------------------------------------


class Location(Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class VenRegistered(_VenFact):
    TYPE = "VenRegistered"
    TOPIC = topics.VEN_REGISTRY
    name: str = Field(min_length=1, max_length=200)
    location: Location | None = None
    status: str | None = None


class VenUpdated(_VenFact):
    TYPE = "VenUpdated"
    TOPIC = topics.VEN_REGISTRY
    name: str | None = Field(default=None, min_length=1, max_length=200)
    location: Location | None = None
    status: str | None = None


class VenDeleted(_VenFact):
    TYPE = "VenDeleted"
    TOPIC = topics.VEN_REGISTRY


# -- dr.commands (key: venId) ---------------------------------------------------------------


class CommandRequested(_VenFact):
    """A direct command to one VEN asked for over REST; the dispatcher sends it."""

    TYPE = "CommandRequested"
    TOPIC = topics.DR_COMMANDS
    correlationId: str
    op: str
    payload: dict[str, Any]


class CommandIssued(_VenFact):
    TYPE = "CommandIssued"
    TOPIC = topics.DR_COMMANDS
    correlationId: str
    eventId: str | None = None
    op: str
    payload: dict[str, Any]
    issuedAt: UtcDatetime
    attempt: int = Field(ge=1)


class CommandTimedOut(_VenFact):
    TYPE = "CommandTimedOut"
    TOPIC = topics.DR_COMMANDS
    correlationId: str
    eventId: str | None = None
    op: str
    attempts: int = Field(ge=1)


# -- ven.acks / ven.telemetry (key: venId) --------------------------------------------------


class AckReceived(_VenFact):
    TYPE = "AckReceived"
    TOPIC = topics.VEN_ACKS
    ack: Ack
    mqttTopic: str
    receivedAt: UtcDatetime
    raw: dict[str, Any]


class TelemetryReported(_VenFact):
    TYPE = "TelemetryReported"
    TOPIC = topics.VEN_TELEMETRY
    reading: Telemetry
    mqttTopic: str
    receivedAt: UtcDatetime
    #: The payload again, only on facts written before the bridge stopped copying it (it
    #: doubled the record; `reading` holds every field, unknown ones in its extras).
    raw: dict[str, Any] | None = None


# -- oadr.objects (key: objectId) -----------------------------------------------------------

#: OpenADR 3 objects kept as such; events are platform events (EventCreated.openadr).
OadrObjectType = Literal["PROGRAM", "VEN", "RESOURCE", "REPORT", "SUBSCRIPTION"]


class _OadrObjectFact(FactPayload):
    TOPIC = topics.OADR_OBJECTS
    objectType: OadrObjectType
    objectId: OadrId

    def key(self) -> str:
        return self.objectId


class OadrObjectWritten(_OadrObjectFact):
    """An OpenADR 3 object created or replaced over the facade (the whole object, as sent)."""

    TYPE = "OadrObjectWritten"
    #: The OAuth2 client the object belongs to (the spec's `clientID`): a VEN object's VEN
    #: (named by the BL that wrote it, or the VEN itself), else the client that wrote it.
    clientId: str = Field(min_length=1, max_length=128)
    #: The object as sent, nulls dropped, without `id`, the dates or `objectType`.
    body: dict[str, Any]
    #: A REPORT's platform VEN (its VEN object's venName): the VEN its readings are of.
    venId: Id | None = None
    #: A SUBSCRIPTION's client reads every object (a BL), else only its own and those
    #: targeted at it: what its webhooks may carry.
    readsAll: bool | None = None
    #: When the object was created, if this write replaces it (None: this write creates it).
    createdAt: UtcDatetime | None = None


class OadrObjectDeleted(_OadrObjectFact):
    """An OpenADR 3 object deleted over the facade, as it was (what its subscribers are told)."""

    TYPE = "OadrObjectDeleted"
    clientId: str = Field(min_length=1, max_length=128)
    body: dict[str, Any]
    createdAt: UtcDatetime


# -- ingest.rejected (key: MQTT topic) ------------------------------------------------------


class PayloadRejected(FactPayload):
    TYPE = "PayloadRejected"
    TOPIC = topics.INGEST_REJECTED
    mqttTopic: str
    code: str
    field: str | None = None
    reason: str
    receivedAt: UtcDatetime
    sizeBytes: int
    #: The payload as received (first MAX_PAYLOAD_BYTES), base64 so any bytes survive.
    rawB64: str

    def key(self) -> str:
        return self.mqttTopic

    @classmethod
    def of(cls, mqtt_topic: str, raw: bytes, rejection: Rejected, received_at: datetime) -> PayloadRejected:
        return cls(
            mqttTopic=mqtt_topic,
            code=rejection.code,
            field=rejection.field,
            reason=rejection.reason,
            receivedAt=received_at,
            sizeBytes=len(raw),
            rawB64=base64.b64encode(raw[: topics.MAX_PAYLOAD_BYTES]).decode(),
        )


FACT_TYPES: dict[str, type[FactPayload]] = {
    cls.TYPE: cls
    for cls in (
        EventCreated,
        EventAmended,
        EventCancelled,
        EventStopRequested,
        EventActivated,
        EventCompleted,
        VenRegistered,
        VenUpdated,
        VenDeleted,
        CommandRequested,
        CommandIssued,
        CommandTimedOut,
        AckReceived,
        TelemetryReported,
        PayloadRejected,
        OadrObjectWritten,
        OadrObjectDeleted,
    )
}


class Fact(Model):
    """The envelope every Kafka record carries."""

    factId: str
    type: str
    schemaVersion: int = SCHEMA_VERSION
    occurredAt: UtcDatetime
    key: str
    payload: SerializeAsAny[FactPayload]


def new_fact(
    payload: FactPayload, *, fact_id: str | None = None, occurred_at: datetime | None = None
) -> Fact:
    """Wrap a payload; pass a deterministic fact_id where a retry must not make a second fact."""
    return Fact(
        factId=fact_id or new_fact_id(),
        type=payload.TYPE,
        occurredAt=occurred_at or datetime.now(UTC),
        key=payload.key(),
        payload=payload,
    )


def encode_fact(fact: Fact) -> bytes:
    return fact.model_dump_json().encode()


def decode_fact(raw: bytes) -> Fact:
    """Kafka record value -> Fact with its typed payload, or Rejected."""
    try:
        obj = jsonio.loads(raw)
    except ValueError as exc:
        raise Rejected("invalid_json", f"fact is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise Rejected("not_object", "a fact must be a JSON object")
    kind = obj.get("type")
    cls = FACT_TYPES.get(kind) if isinstance(kind, str) else None  # a list or object is no type
    if cls is None:
        raise Rejected("unknown_fact_type", f"unknown fact type {kind!r:.100}", "type")
    try:
        payload = cls.model_validate(obj.get("payload"), strict=False)
        return Fact.model_validate({**obj, "payload": payload}, strict=False)
    except ValidationError as err:
        raise from_validation_error(err) from None
