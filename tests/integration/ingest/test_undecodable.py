"""A record that is no fact is dead-lettered and skipped; the projector's own decoding bug stops it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from dr_contracts.facts import Fact, VenRegistered, encode_fact, new_fact
from dr_contracts.topics import MqttTopics
from ingest.bootstrap import running_projector
from ingest.domain.intake import intake
from ingest.settings import Settings
from tests import samples
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, Worker, count, query, wait_rows
from tests.integration.ingest.test_poison import applied, at_least, names

pytestmark = pytest.mark.integration

#: `python -m ingest projector` that dies right after its dead letters were acknowledged,
#: before the transaction that moves their offsets (the window where a loss or a double could hide).
CRASH_AFTER_DEAD_LETTER = """
import os
import sys

from ingest import __main__ as cli
from ingest.adapters.pg_store import ProjectionStore

apply = ProjectionStore.apply


async def crash_on_skip(self, records, expected):
    if any(r.fact is None for r in records):
        os._exit(3)
    return await apply(self, records, expected)


ProjectionStore.apply = crash_on_skip
cli.main(sys.argv[1:])
"""

#: `python -m ingest projector` whose telemetry reader has a bug for one VEN (patched before
#: the projector imports it, so the quick path and the canonical-form path both have it).
BUGGY_READER = """
import sys

from ingest.domain import readings

read = readings.reading_of


def reading_of(fact):
    if fact["payload"]["reading"]["venId"] == "ven-bug":
        raise KeyError("a bug in the readings parser")
    return read(fact)


readings.reading_of = reading_of
from ingest import __main__ as cli  # noqa: E402

cli.main(sys.argv[1:])
"""


def unreadable_total(topic: str, code: str) -> float:
    return REGISTRY.get_sample_value("ingest_unreadable_facts_total", {"topic": topic, "code": code}) or 0.0


def registered(ven_id: str) -> bytes:
    return encode_fact(new_fact(VenRegistered(venId=ven_id, name=ven_id)))


def reading(ven_id: str) -> Fact:
    raw = samples.dumps(samples.telemetry(ven_id))
    return intake(MqttTopics("").metering, raw, datetime.now(UTC), MqttTopics(""))


async def produce(producer: AIOKafkaProducer, topic: str, *values: bytes) -> None:
    """Raw records, in this order, on partition 0 (so 'the next facts' is well defined)."""
    for value in values:
        await producer.send_and_wait(topic, value, key=b"k", partition=0)


async def rejections(settings: Settings) -> list[tuple[str, str, bytes]]:
    rows = await query(
        settings, "SELECT mqtt_topic, code, raw_b64 FROM ingest_rejections ORDER BY mqtt_topic"
    )
    return [(place, code, base64.b64decode(raw)) for place, code, raw in rows]


async def test_records_that_are_no_fact_are_dead_lettered_counted_and_the_next_facts_applied(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    topic = settings.topics.ven_registry
    unknown_type = orjson.dumps({"factId": "f-1", "type": "VenRenamed", "payload": {}})
    newer_schema = orjson.dumps(orjson.loads(registered("ven-new")) | {"schemaVersion": 2})
    poison = [b"not json", unknown_type, newer_schema]
    codes = ["invalid_json", "unknown_fact_type", "unknown_schema_version"]
    before = {code: unreadable_total(topic, code) for code in codes}
    async with running_projector(settings) as projector:
        await wait_for(projector.assigned.is_set, DEADLINE_S)
        await produce(producer, topic, registered("ven-1"), *poison, registered("ven-2"))
        await wait_for(lambda: at_least(applied(settings, topic), 5), DEADLINE_S)
        await wait_rows(settings, "ingest_rejections", 3)  # projected from ingest.rejected
    assert await names(settings) == [("ven-1", "ven-1"), ("ven-2", "ven-2")]
    assert await rejections(settings) == [
        (f"kafka:{topic}/0:{offset}", code, raw)
        for offset, code, raw in zip([1, 2, 3], codes, poison, strict=True)
    ]
    [(reason,)] = await query(settings, "SELECT reason FROM ingest_rejections WHERE code = %s", codes[1])
    assert reason == "unknown_fact_type [type]: unknown fact type 'VenRenamed'"
    assert {code: unreadable_total(topic, code) - before[code] for code in codes} == dict.fromkeys(codes, 1)


async def test_a_crash_after_the_dead_letter_loses_and_doubles_nothing(
    settings: Settings, producer: AIOKafkaProducer, workers: list[Worker]
) -> None:
    topic, rejected = settings.topics.ven_registry, settings.topics.ingest_rejected
    crashing = Worker("projector", settings, "projection.assigned", code=CRASH_AFTER_DEAD_LETTER)
    workers.append(crashing)
    await crashing.started()
    await produce(producer, topic, b"\x00 garbage", registered("ven-1"))
    assert await crashing.exited() == 3
    assert crashing.logged("fact.dead_lettered")  # acknowledged by Kafka before it died
    assert await applied(settings, topic) == 0  # ... and before any offset moved
    assert await count(settings, "vens") == 0

    async with running_projector(settings):  # redelivered: dead-lettered again, same fact id
        await wait_for(lambda: at_least(applied(settings, topic), 2), DEADLINE_S)
        await wait_for(lambda: at_least(applied(settings, rejected), 2), DEADLINE_S)
    assert await applied(settings, rejected) == 2  # two dead letters in the topic...
    assert await rejections(settings) == [(f"kafka:{topic}/0:0", "invalid_json", b"\x00 garbage")]  # one row
    assert await names(settings) == [("ven-1", "ven-1")]


async def test_a_bug_in_the_readings_parser_stops_the_projector_with_its_offsets_unmoved(
    settings: Settings, producer: AIOKafkaProducer, workers: list[Worker]
) -> None:
    topic = settings.topics.ven_telemetry
    buggy = Worker("projector", settings, "projection.assigned", code=BUGGY_READER)
    workers.append(buggy)
    await buggy.started()
    await produce(producer, topic, encode_fact(reading("ven-1")))
    await wait_for(lambda: at_least(applied(settings, topic), 1), DEADLINE_S)

    await produce(producer, topic, encode_fact(reading("ven-bug")), encode_fact(reading("ven-2")))
    assert await buggy.exited() == 1  # loudly: the process ends with the exception
    [failed] = buggy.logged("projection.failed")
    assert "KeyError" in failed["error"] and failed["batch"] == [f"{topic}/0:1"], failed
    assert not buggy.logged("fact.dead_lettered")  # a bug is not poison
    assert await applied(settings, topic) == 1  # nothing skipped, nothing after it applied
    assert await query(settings, "SELECT ven_id FROM ven_telemetry") == [("ven-1",)]
    assert await count(settings, "ingest_rejections") == 0

    async with running_projector(settings):  # fixed: it resumes where the offsets are
        await wait_for(lambda: at_least(applied(settings, topic), 3), DEADLINE_S)
    rows = await query(settings, "SELECT ven_id FROM ven_telemetry ORDER BY ven_id")
    assert rows == [("ven-1",), ("ven-2",), ("ven-bug",)]
