"""Sorting a consumed batch: duplicates merged, newest reading and first ack kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dr_contracts.acks import normalize_ack
from dr_contracts.facts import (
    CommandIssued,
    CommandTimedOut,
    EventCreated,
    TelemetryReported,
    VenRegistered,
    new_fact,
)
from dr_contracts.telemetry import normalize_telemetry
from dr_contracts.topics import MqttTopics
from ingest.domain.batch import Batch
from ingest.domain.commands import outcome, shed_from_ack
from ingest.domain.intake import intake
from tests import samples

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def reading(ven: str, ts: int, received: datetime = T0, topic: str = "volttron/metering") -> object:
    r = normalize_telemetry(samples.telemetry(ven, ts))
    return new_fact(
        TelemetryReported(venId=ven, reading=r, mqttTopic=topic, receivedAt=received, raw={}),
        occurred_at=received,
    )


def ack(payload: dict, ven: str = "ven-1", received: datetime = T0) -> object:
    """As the bridge makes it (content-derived fact id)."""
    return intake(f"ven/ack/{ven}", samples.dumps(payload), received, MqttTopics(""))


def issued(cid: str, attempt: int, at: datetime) -> object:
    return new_fact(
        CommandIssued(
            venId="ven-1",
            correlationId=cid,
            eventId="evt-1",
            op="event",
            payload={"n": attempt},
            issuedAt=at,
            attempt=attempt,
        )
    )


def batch_of(*facts: object) -> Batch:
    batch = Batch()
    for fact in facts:
        batch.add(fact)
    return batch


def test_one_row_per_reading_and_the_newest_per_ven() -> None:
    b = batch_of(
        reading("ven-1", samples.TS + 5, T0 + timedelta(seconds=1)),
        reading("ven-1", samples.TS, T0),
        reading("ven-1", samples.TS, T0, "ven/telemetry/ven-1"),
    )
    assert len(b.readings) == 2
    assert b.latest["ven-1"].ts == datetime.fromtimestamp(samples.TS + 5, UTC)
    assert b.seen["ven-1"] == (T0, T0 + timedelta(seconds=1))


def test_reissued_command_merges_attempts_and_times() -> None:
    b = batch_of(
        issued("c1", 2, T0 + timedelta(seconds=10)), issued("c1", 1, T0), issued("c1", 3, T0 + timedelta(20))
    )
    merged = b.issued["c1"]
    assert (merged.first_issued_at, merged.last_issued_at, merged.attempts, merged.payload) == (
        T0,
        T0 + timedelta(20),
        3,
        {"n": 3},
    )


def test_first_ack_is_the_earliest_received() -> None:
    late, early = (
        ack(samples.ack_b("c1"), received=T0 + timedelta(seconds=3)),
        ack(samples.ack_b("c1"), received=T0),
    )
    b = batch_of(late, early)
    assert b.first_acks["c1"].receivedAt == T0
    assert len(b.acks) == 1  # same content, same ven: same fact id


def test_timeout_keeps_highest_attempts() -> None:
    t = [new_fact(CommandTimedOut(venId="ven-1", correlationId="c1", op="event", attempts=n)) for n in (3, 2)]
    assert batch_of(*t).timed_out["c1"].attempts == 3


def test_event_ids_touched() -> None:
    b = batch_of(
        new_fact(EventCreated(eventId="evt-a", startTime=T0, endTime=T0, requestedReductionKw=1)),
        issued("c1", 1, T0),
        ack(samples.ack_c("c2")),
    )
    assert b.event_ids == {"evt-a", "evt-1", "evt-9"}


def test_registry_and_events_keep_log_order() -> None:
    facts = [new_fact(VenRegistered(venId=f"ven-{i}", name="n")) for i in range(3)]
    assert [f.venId for f, _ in batch_of(*facts).registry] == ["ven-0", "ven-1", "ven-2"]


def test_shed_loads_from_event_and_restore_acks() -> None:
    event = normalize_ack(samples.ack_b(), "ven-1", T0)
    assert shed_from_ack(event).load_ids == ["ev1"]
    restore = normalize_ack(
        {"op": "restore", "status": "success", "ts": samples.TS + 60, "correlationId": "r"}, "ven-1", T0
    )
    assert shed_from_ack(restore).load_ids == []
    ping = normalize_ack({"op": "ping", "status": "success", "pong": True, "ts": samples.TS}, "ven-1", T0)
    assert shed_from_ack(ping) is None
    b = batch_of(ack(samples.ack_b()), ack({"op": "restore", "status": "success", "ts": samples.TS + 60}))
    assert b.shed["ven-1"].load_ids == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("accepted", "acked"),
        ("success", "acked"),
        ("completed", "acked"),
        ("rejected", "rejected"),
        ("failed", "failed"),
        ("error", "failed"),
    ],
)
def test_outcome(status: str, expected: str) -> None:
    assert outcome(normalize_ack({"op": "event", "status": status, "ts": samples.TS}, "v", T0)) == expected
