"""Response bodies of CONTRACT.md section 5 (camelCase), for serialisation and /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class EventOut(BaseModel):
    id: str
    status: str
    startTime: datetime
    endTime: datetime
    requestedReductionKw: float
    actualReductionKw: float = 0.0
    venIds: list[str] | None = None
    createdAt: datetime | None = None
    activatedAt: datetime | None = None
    endedAt: datetime | None = None
    stopRequestedAt: datetime | None = None
    #: Set at activation: kW split over the VENs, and what they could not take (None before).
    allocatedKw: float | None = None
    unallocatedKw: float | None = None


class EventMetricsOut(BaseModel):
    currentReductionKw: float
    vensResponding: int
    avgResponseMs: float


class EventVenOut(BaseModel):
    venId: str
    venName: str | None
    shedKw: float
    actualShedKw: float | None
    responseMs: float | None
    status: str


class EventAckOut(EventVenOut):
    """A row of the event's VEN table: the VEN's event command, its ack, and its restore."""

    attempts: int | None = Field(description="times the event command was sent (null: no command)")
    ackedAt: datetime | None = Field(description="when the first ack of the event command arrived")
    circuitsCurtailed: list[dict[str, Any]] = Field(
        description="circuits named by the newest ack of the event command ([] when none)"
    )
    restoreStatus: str | None = Field(
        description="outcome of the VEN's newest restore command of the event (null: none sent)"
    )


class EventAcksOut(BaseModel):
    totalCount: int = Field(description="rows that match the filters, on every page")
    acks: list[EventAckOut]


class EventCommandsOut(BaseModel):
    """The event's commands (`event`/`shedPanel` starts and `restore`s) from ven_commands."""

    sent: int = Field(description="event, shedPanel and restore commands issued")
    eventCommands: int = Field(description="event (or shedPanel) commands")
    acked: int = Field(description="event commands acked ok")
    rejected: int = Field(description="event commands the VEN rejected")
    failed: int = Field(description="event commands the VEN answered with a failure")
    timedOut: int = Field(description="commands, event and restore, given up after the last attempt")
    pending: int = Field(description="event commands not answered yet")
    restores: int = Field(description="restore commands")
    restoresAcked: int = Field(description="restore commands acked ok")
    retries: int = Field(description="re-sends: attempts beyond the first, over every command")
    latencyP50Ms: float | None = Field(description="median first issue -> first ack of event commands")
    latencyP99Ms: float | None = Field(description="99th percentile of the same")


class DeliveryPointOut(BaseModel):
    timestamp: datetime = Field(description="start of the bucket")
    deliveredKw: float = Field(description="sum over the VENs of each one's mean shedPowerKw in the bucket")
    vensReporting: int = Field(description="VENs with a reading of the event in the bucket")


class EventDeliveryOut(BaseModel):
    stepSeconds: int = Field(description="bucket length; pass it as step_s to fetch later points")
    requestedReductionKw: float
    points: list[DeliveryPointOut] = Field(description="settled buckets with readings, oldest first")
    settledUntil: datetime = Field(
        description="buckets before this are final; a live chart asks `start=` this next"
    )


class CurrentEventOut(EventOut, EventMetricsOut):
    pass


class EventDetailOut(EventOut, EventMetricsOut):
    vens: list[EventVenOut]


class LocationOut(BaseModel):
    lat: float
    lon: float


class LoadOut(BaseModel):
    id: str | None
    type: str | None
    name: str | None
    capacityKw: float | None
    shedCapabilityKw: float | None
    currentPowerKw: float | None
    enabled: bool | None = None


class VenMetricsOut(BaseModel):
    currentPowerKw: float | None
    shedAvailabilityKw: float | None
    activeEventId: str | None
    shedLoadIds: list[str]


class VenOut(BaseModel):
    id: str
    name: str
    status: str
    location: LocationOut | None
    createdAt: datetime
    lastSeen: datetime | None
    loads: list[LoadOut]
    metrics: VenMetricsOut


class TelemetryPointOut(BaseModel):
    timestamp: datetime
    usedPowerKw: float
    shedPowerKw: float | None
    requestedReductionKw: float | None
    eventId: str | None
    batterySoc: float | None


class TelemetryRollupOut(TelemetryPointOut):
    """One 1-minute or 15-minute bucket (`timestamp` is its start): means over its readings
    (`shedPowerKw`, `baselinePowerKw`: over the readings that carried them), extremes, count."""

    samples: int
    usedPowerKwMin: float
    usedPowerKwMax: float
    shedPowerKwMin: float | None
    shedPowerKwMax: float | None
    baselinePowerKw: float | None


class TelemetryOut(BaseModel):
    """Points of the resolution named by the `X-Resolution` header: readings (`raw`) or buckets."""

    totalCount: int
    telemetry: list[TelemetryRollupOut] | list[TelemetryPointOut]


class VenEventOut(BaseModel):
    eventId: str | None
    timestamp: datetime
    op: str
    status: str
    correlationId: str | None
    requestedShedKw: float | None
    actualShedKw: float | None
    circuitsCurtailed: list[dict[str, Any]]


class VenEventsOut(BaseModel):
    totalCount: int
    events: list[VenEventOut]


class SnapshotOut(BaseModel):
    timestamp: datetime
    loadId: str
    currentPowerKw: float | None
    shedCapabilityKw: float | None
    enabled: bool | None


class CircuitHistoryOut(BaseModel):
    totalCount: int
    snapshots: list[SnapshotOut]


class NetworkStatsOut(BaseModel):
    venCount: int
    onlineVens: int
    controllablePowerKw: float
    potentialLoadReductionKw: float
    householdUsageKw: float
    currentLoadReductionKw: float


class LoadStatsOut(BaseModel):
    type: str
    totalCapacityKw: float
    totalShedCapabilityKw: float
    currentUsageKw: float


class FreshnessOut(BaseModel):
    now: datetime = Field(description="the read model's (Postgres) clock, to compare the others with")
    newestReadingAt: datetime | None = Field(description="latest reading received from a VEN not deleted")
    projectedAt: datetime | None = Field(description="when the projector last stored a batch")


class CommandOut(BaseModel):
    correlationId: str
    venId: str
    op: str
    eventId: str | None
    status: str = "requested"


class DeletedOut(BaseModel):
    id: str
    deleted: bool = True


class ProblemOut(BaseModel):
    field: str
    reason: str
    code: str


class ValidationErrorOut(BaseModel):
    detail: list[ProblemOut]


class ErrorOut(BaseModel):
    detail: str


#: The error answers every `/api` route may give, for the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ValidationErrorOut},
    503: {"model": ErrorOut},
}
