"""MQTT -> bridge -> Kafka -> projector -> Postgres: the rows each input ends up as."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiomqtt
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from dr_contracts.facts import (
    Allocation,
    CommandIssued,
    CommandTimedOut,
    EventActivated,
    EventCancelled,
    EventCompleted,
    EventCreated,
    EventStopRequested,
    VenDeleted,
    VenRegistered,
)
from ingest.bootstrap import running_bridge, running_projector
from ingest.settings import Settings
from tests import samples
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, append, query, wait_rows

pytestmark = pytest.mark.integration

EPOCH = datetime.fromtimestamp(samples.TS, UTC)


@pytest.fixture
async def ingest(settings: Settings) -> AsyncIterator[None]:
    """Bridge and projector running in this process."""
    async with running_projector(settings), running_bridge(settings):
        yield


async def publish(mqtt: aiomqtt.Client, topic: str, payload: dict) -> None:
    await mqtt.publish(topic, samples.dumps(payload), qos=1)


async def test_each_ack_shape_becomes_the_right_rows(
    ingest: None, settings: Settings, mqtt: aiomqtt.Client, producer: AIOKafkaProducer
) -> None:
    t = settings.mqtt_topics
    issued_at = EPOCH - timedelta(seconds=2)
    await append(
        producer,
        settings,
        CommandIssued(
            venId="ven-7",
            correlationId="xyz-123",
            eventId="evt-123",
            op="event",
            payload={},
            issuedAt=issued_at,
            attempt=1,
        ),
    )
    await publish(mqtt, t.ack("ven-123"), samples.ack_a())
    await publish(mqtt, t.ack("ven-7"), samples.ack_b())
    await publish(mqtt, t.ack("ven-8"), samples.ack_c())
    await wait_rows(settings, "ven_acks", 3)
    acks = await query(
        settings,
        "SELECT ven_id, correlation_id, shape, op, ok, status, event_id, requested_shed_kw,"
        " actual_shed_kw, circuits_curtailed, matched, raw FROM ven_acks ORDER BY shape",
    )
    assert [a[:11] for a in acks] == [
        ("ven-123", "abc123", "A", "shedLoad", True, "success", None, None, 5.0, [], False),
        (
            "ven-7",
            "xyz-123",
            "B",
            "event",
            True,
            "accepted",
            "evt-123",
            5.0,
            4.8,
            [
                {
                    "loadId": "ev1",
                    "name": "EV Charger",
                    "breakerAmps": 50,
                    "originalKw": 8.5,
                    "curtailedKw": 8.5,
                    "finalKw": 0.0,
                    "critical": False,
                }
            ],
            True,
        ),
        (
            "ven-8",
            "cam-1",
            "C",
            "event",
            True,
            "completed",
            "evt-9",
            4.0,
            3.5,
            [{"loadId": "circuit_3", "name": "HVAC", "curtailedKw": 3.5}],
            False,
        ),
    ]
    assert acks[1][11] == samples.ack_b()  # the raw payload is kept
    await wait_for(
        lambda: query(
            settings,
            "SELECT 1 FROM ven_commands WHERE correlation_id = 'xyz-123'"
            " AND acked_at IS NOT NULL AND first_issued_at IS NOT NULL",
        ),
        DEADLINE_S,
    )
    commands = await query(
        settings,
        "SELECT correlation_id, ven_id, op, outcome, ack_status, actual_shed_kw,"
        " attempts, latency_ms IS NOT NULL FROM ven_commands ORDER BY 1",
    )
    assert commands == [
        ("abc123", "ven-123", "shedLoad", "acked", "success", 5.0, 0, False),  # never issued: no latency
        ("cam-1", "ven-8", "event", "acked", "completed", 3.5, 0, False),
        ("xyz-123", "ven-7", "event", "acked", "accepted", 4.8, 1, True),
    ]


async def test_ack_before_its_command_is_matched_later(
    ingest: None, settings: Settings, mqtt: aiomqtt.Client, producer: AIOKafkaProducer
) -> None:
    await publish(mqtt, settings.mqtt_topics.ack("ven-7"), samples.ack_b("late-cmd"))
    await wait_rows(settings, "ven_acks", 1)
    assert await query(settings, "SELECT matched FROM ven_acks") == [(False,)]
    await append(
        producer,
        settings,
        CommandIssued(
            venId="ven-7",
            correlationId="late-cmd",
            eventId="evt-123",
            op="event",
            payload={"x": 1},
            issuedAt=EPOCH - timedelta(seconds=30),
            attempt=1,
        ),
    )
    await wait_for(lambda: query(settings, "SELECT 1 FROM ven_acks WHERE matched"), DEADLINE_S)
    [(payload, attempts, outcome)] = await query(
        settings, "SELECT payload, attempts, outcome FROM ven_commands"
    )
    assert (payload, attempts, outcome) == ({"x": 1}, 1, "acked")


async def test_telemetry_shapes_and_duplicates(
    ingest: None, settings: Settings, mqtt: aiomqtt.Client
) -> None:
    t = settings.mqtt_topics
    await publish(mqtt, t.metering, samples.telemetry("ven-new"))
    await publish(mqtt, t.telemetry("ven-new"), samples.telemetry("ven-new"))  # the same reading again
    await publish(mqtt, t.oadr_meter("ven-old"), samples.legacy_telemetry(ven_id=None))
    await publish(mqtt, t.metering, samples.legacy_telemetry("ven-old", ts=samples.TS - 5))  # older
    await wait_rows(settings, "ven_telemetry", 3)
    await wait_rows(settings, "ven_load_samples", 3 + 1 + 1)
    rows = await query(
        settings,
        "SELECT ven_id, ts, used_power_kw, shed_power_kw, baseline_power_kw, event_id,"
        " battery_soc, extras FROM ven_telemetry ORDER BY ven_id, ts",
    )
    assert rows == [
        ("ven-new", EPOCH, 2.73, 0.62, 3.35, "evt-9", 0.54, {}),
        ("ven-old", EPOCH - timedelta(seconds=5), 1.5, 0.25, 2.0, None, 0.8, {"firmware": "2.1.0"}),
        ("ven-old", EPOCH, 1.5, 0.25, 2.0, None, 0.8, {"firmware": "2.1.0"}),
    ]
    vens = await query(
        settings,
        "SELECT ven_id, name, source, last_reading_at, current_power_kw,"
        " shed_availability_kw, active_event_id, report_interval_s, panel->>'panelMaxKw',"
        " jsonb_array_length(loads) FROM vens ORDER BY ven_id",
    )
    assert vens == [
        ("ven-new", "ven-new", "telemetry", EPOCH, 2.73, 0.5, "evt-9", 5.0, "48.0", 3),
        ("ven-old", "ven-old", "telemetry", EPOCH, 1.5, 1.0, None, 5.0, None, 1),  # the newer reading wins
    ]
    samples_ = await query(
        settings,
        "SELECT load_id, current_power_kw, shed_capability_kw, enabled FROM"
        " ven_load_samples WHERE ven_id = 'ven-new' ORDER BY load_id",
    )
    assert samples_ == [("ev1", 0.0, 7.0, False), ("hvac1", 0.82, 0.5, True), ("pv1", -2.1, 0.0, True)]


async def test_registry_and_deleted_vens(
    ingest: None, settings: Settings, mqtt: aiomqtt.Client, producer: AIOKafkaProducer
) -> None:
    await append(
        producer,
        settings,
        VenRegistered(venId="ven-api", name="Home"),
        VenRegistered(venId="ven-gone", name="Gone"),
        VenDeleted(venId="ven-gone"),
    )
    await publish(mqtt, settings.mqtt_topics.metering, samples.telemetry("ven-api"))
    await publish(mqtt, settings.mqtt_topics.metering, samples.telemetry("ven-gone"))
    await wait_rows(settings, "ven_telemetry", 2)
    await wait_for(lambda: query(settings, "SELECT 1 FROM vens WHERE deleted_at IS NOT NULL"), DEADLINE_S)
    await wait_for(
        lambda: query(settings, "SELECT 1 FROM vens WHERE last_seen IS NOT NULL AND ven_id = 'ven-gone'"),
        DEADLINE_S,
    )
    vens = await query(
        settings, "SELECT ven_id, name, source, deleted_at IS NOT NULL, current_power_kw FROM vens ORDER BY 1"
    )
    assert vens == [("ven-api", "Home", "api", False, 2.73), ("ven-gone", "Gone", "api", True, 2.73)]


async def test_event_lifecycle_and_metrics(
    ingest: None, settings: Settings, mqtt: aiomqtt.Client, producer: AIOKafkaProducer
) -> None:
    eid, start = "evt-00c0ffee", EPOCH - timedelta(seconds=10)
    allocations = [Allocation(venId="ven-1", shedKw=3.0), Allocation(venId="ven-2", shedKw=2.0)]
    await append(
        producer,
        settings,
        EventCreated(
            eventId=eid, startTime=start, endTime=start + timedelta(hours=1), requestedReductionKw=5.0
        ),
        EventActivated(eventId=eid, activatedAt=start, allocations=allocations),
    )
    for ven in ("ven-1", "ven-2"):
        await append(
            producer,
            settings,
            CommandIssued(
                venId=ven,
                correlationId=f"{eid}-{ven}-shed",
                eventId=eid,
                op="event",
                payload={},
                issuedAt=datetime.now(UTC),
                attempt=1,
            ),
        )
    await wait_rows(settings, "ven_commands", 2)
    # shape A names no event: the projection finds it through the command
    ack = samples.ack_a("ven-1", f"{eid}-ven-1-shed", op="event", data={"shedAmount": 2.5})
    await publish(mqtt, settings.mqtt_topics.ack("ven-1"), ack)

    async def metrics() -> tuple | None:
        rows = await query(
            settings,
            "SELECT status, ven_count, allocated_kw, acked_count, actual_reduction_kw,"
            " avg_response_ms IS NOT NULL FROM events",
        )
        return rows[0] if rows and rows[0][3] == 1 else None

    assert await wait_for(metrics, DEADLINE_S) == ("active", 2, 5.0, 1, 2.5, True)
    await append(
        producer,
        settings,
        CommandTimedOut(
            venId="ven-2", correlationId=f"{eid}-ven-2-shed", eventId=eid, op="event", attempts=3
        ),
    )

    assert await query(settings, "SELECT ven_id, allocated_kw FROM event_vens ORDER BY 1") == [
        ("ven-1", 3.0),
        ("ven-2", 2.0),
    ]
    await wait_for(
        lambda: query(settings, "SELECT 1 FROM ven_commands WHERE outcome = 'timed_out'"), DEADLINE_S
    )
    await append(producer, settings, EventStopRequested(eventId=eid))
    await wait_for(lambda: query(settings, "SELECT 1 FROM events WHERE status = 'stopped'"), DEADLINE_S)
    ended = start + timedelta(minutes=5)
    await append(
        producer,
        settings,
        EventCompleted(eventId=eid, completedAt=ended, outcome="stopped"),
        EventActivated(eventId=eid, activatedAt=ended, allocations=[]),
    )  # late: ignored
    await wait_for(lambda: query(settings, "SELECT 1 FROM events WHERE ended_at IS NOT NULL"), DEADLINE_S)
    [(status, ended_at, ven_count)] = await query(settings, "SELECT status, ended_at, ven_count FROM events")
    assert (status, ended_at, ven_count) == ("stopped", ended, 2)


async def test_offsets_pass_facts_that_change_no_row(
    ingest: None, settings: Settings, producer: AIOKafkaProducer
) -> None:
    """The API's read-your-writes waits on projection_offsets for every fact it appends."""
    [meta] = await append(producer, settings, EventCancelled(eventId="evt-deadbeef"))  # unknown event

    async def passed() -> bool:
        rows = await query(
            settings,
            "SELECT next_offset FROM projection_offsets WHERE group_id = %s"
            " AND topic = %s AND partition = %s",
            settings.projector_group_id,
            meta.topic,
            meta.partition,
        )
        return bool(rows) and rows[0][0] > meta.offset

    await wait_for(passed, DEADLINE_S)


async def test_a_payload_just_under_the_limit_is_stored(
    ingest: None, settings: Settings, mqtt: aiomqtt.Client
) -> None:
    big = samples.telemetry("ven-big", note="x" * (127 * 1024))
    await publish(mqtt, settings.mqtt_topics.metering, big)
    await wait_rows(settings, "ven_telemetry", 1)
    [(length,)] = await query(settings, "SELECT length(extras->>'note') FROM ven_telemetry")
    assert length == 127 * 1024


async def test_ready_gauge_follows_the_bridge_session_and_the_projector_assignment(
    settings: Settings,
) -> None:
    """What the container healthcheck reads (deploy/compose.yaml): 1 while subscribed / assigned."""
    async with running_bridge(settings):
        assert REGISTRY.get_sample_value("ingest_ready") == 1.0
    assert REGISTRY.get_sample_value("ingest_ready") == 0.0
    async with running_projector(settings) as projector:
        await wait_for(projector.assigned.is_set, 30, message="projector never assigned")
        assert REGISTRY.get_sample_value("ingest_ready") == 1.0
