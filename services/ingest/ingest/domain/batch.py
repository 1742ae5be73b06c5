"""One consumed batch of facts, sorted into what each projection needs.

Duplicates inside the batch are merged here (the same reading from two topics, a
command issued three times, an ack delivered twice) so that each set-based statement
touches a row at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dr_contracts.facts import (
    AckReceived,
    CommandIssued,
    CommandRequested,
    CommandTimedOut,
    Fact,
    FactPayload,
    OadrObjectDeleted,
    OadrObjectWritten,
    PayloadRejected,
    TelemetryReported,
)
from dr_contracts.topics import DR_EVENTS, VEN_REGISTRY
from ingest.domain.commands import Issue, Shed, merge_issue, merge_timeout, shed_from_ack
from ingest.domain.readings import Reading, reading_from
from ingest.domain.reports import readings_of_report


@dataclass
class Batch:
    """Facts of one transaction, grouped by the rows they touch."""

    events: list[tuple[FactPayload, datetime]] = field(default_factory=list)
    registry: list[tuple[FactPayload, datetime]] = field(default_factory=list)
    requested: dict[str, CommandRequested] = field(default_factory=dict)
    issued: dict[str, Issue] = field(default_factory=dict)
    timed_out: dict[str, CommandTimedOut] = field(default_factory=dict)
    acks: dict[str, AckReceived] = field(default_factory=dict)
    first_acks: dict[str, AckReceived] = field(default_factory=dict)
    shed: dict[str, Shed] = field(default_factory=dict)
    readings: dict[tuple[str, datetime], Reading] = field(default_factory=dict)
    latest: dict[str, Reading] = field(default_factory=dict)
    #: venId -> (earliest occurredAt, latest receivedAt) of its readings in the batch.
    seen: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    rejections: dict[str, tuple[PayloadRejected, datetime]] = field(default_factory=dict)
    #: OpenADR 3 objects written and deleted, in log order (each object's facts on one partition).
    oadr_objects: list[tuple[OadrObjectWritten | OadrObjectDeleted, datetime]] = field(default_factory=list)

    def add(self, fact: Fact | Reading) -> None:
        """Sort one fact in (facts must be added in log order per partition)."""
        if isinstance(fact, Reading):
            self._add_reading(fact)
            return
        payload, at = fact.payload, fact.occurredAt
        if payload.TOPIC == DR_EVENTS:
            self.events.append((payload, at))
        elif payload.TOPIC == VEN_REGISTRY:
            self.registry.append((payload, at))
        elif isinstance(payload, TelemetryReported):
            self._add_reading(reading_from(payload, fact.factId, at))
        elif isinstance(payload, AckReceived):
            self._add_ack(fact.factId, payload)
        elif isinstance(payload, CommandIssued):
            self.issued[payload.correlationId] = merge_issue(self.issued.get(payload.correlationId), payload)
        elif isinstance(payload, CommandTimedOut):
            self.timed_out[payload.correlationId] = merge_timeout(
                self.timed_out.get(payload.correlationId), payload
            )
        elif isinstance(payload, CommandRequested):
            self.requested.setdefault(payload.correlationId, payload)
        elif isinstance(payload, PayloadRejected):
            self.rejections[fact.factId] = (payload, at)
        elif isinstance(payload, OadrObjectWritten | OadrObjectDeleted):
            self.oadr_objects.append((payload, at))
            if isinstance(payload, OadrObjectWritten):
                for reading in readings_of_report(fact.factId, payload, at):
                    self._add_reading(reading)

    def _add_reading(self, reading: Reading) -> None:
        """A reading of an MQTT VEN's telemetry or of an OpenADR VEN's report."""
        self.readings.setdefault((reading.ven_id, reading.ts), reading)
        newest = self.latest.get(reading.ven_id)
        if newest is None or reading.ts > newest.ts:
            self.latest[reading.ven_id] = reading
        first, last = self.seen.get(reading.ven_id, (reading.occurred_at, reading.received_at))
        self.seen[reading.ven_id] = (min(first, reading.occurred_at), max(last, reading.received_at))

    def _add_ack(self, fact_id: str, payload: AckReceived) -> None:
        self.acks.setdefault(fact_id, payload)
        ack = payload.ack
        if ack.correlationId is not None:
            first = self.first_acks.get(ack.correlationId)
            if first is None or payload.receivedAt < first.receivedAt:
                self.first_acks[ack.correlationId] = payload
        shed = shed_from_ack(ack)
        newest = self.shed.get(ack.venId)
        if shed is not None and (newest is None or shed.at >= newest.at):
            self.shed[ack.venId] = shed

    @property
    def event_ids(self) -> set[str]:
        """Events whose ack aggregates may have changed."""
        ids = {p.eventId for p, _ in self.events}  # type: ignore[attr-defined]
        ids |= {i.event_id for i in self.issued.values() if i.event_id}
        ids |= {t.eventId for t in self.timed_out.values() if t.eventId}
        ids |= {a.ack.eventId for a in self.first_acks.values() if a.ack.eventId}
        return ids
