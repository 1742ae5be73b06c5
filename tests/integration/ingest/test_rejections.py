"""Bad MQTT input lands in ingest.rejected with its reason; the bridge keeps going."""

from __future__ import annotations

import base64

import aiomqtt
import pytest

from ingest import metrics
from ingest.bootstrap import running_bridge, running_projector
from ingest.settings import Settings
from tests import samples
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, query, wait_rows

pytestmark = pytest.mark.integration


def rejected_total() -> float:
    return sum(s.value for m in metrics.REJECTED.collect() for s in m.samples if s.name.endswith("_total"))


async def test_every_malformed_payload_is_rejected_with_its_reason_and_the_next_one_flows(
    settings: Settings, mqtt: aiomqtt.Client
) -> None:
    t = settings.mqtt_topics
    topics = {
        "metering": t.metering,
        "oadr": t.oadr_meter("ven-1"),
        "ack": t.ack("ven-1"),
        "bare-ack": f"{t.root}ven/ack/",
    }
    before = rejected_total()
    async with running_projector(settings), running_bridge(settings):
        for _, kind, raw, _, _ in samples.MALFORMED:
            await mqtt.publish(topics[kind], raw, qos=1)
        await mqtt.publish(t.metering, samples.dumps(samples.telemetry("ven-good")), qos=1)
        await wait_rows(settings, "ingest_rejections", len(samples.MALFORMED))
        await wait_rows(settings, "ven_telemetry", 1)
    rows = await query(
        settings, "SELECT mqtt_topic, code, field, reason, size_bytes, raw_b64 FROM ingest_rejections"
    )
    by_raw = {base64.b64decode(r[5]): r for r in rows}
    for name, kind, raw, code, field in samples.MALFORMED:
        topic, got_code, got_field, _, size, _ = by_raw[raw[: 128 * 1024]]
        assert (topic, got_code, got_field, size) == (topics[kind], code, field, len(raw)), name
    assert len({r[3] for r in rows}) == len(samples.MALFORMED) >= 20  # a distinct reason each
    assert rejected_total() - before == len(samples.MALFORMED)
    assert await query(settings, "SELECT ven_id FROM ven_telemetry") == [("ven-good",)]


async def test_the_same_bad_payload_twice_is_one_rejection(settings: Settings, mqtt: aiomqtt.Client) -> None:
    """A payload the broker redelivers (or a VEN repeats) gives the same fact id: one row."""
    topic = settings.mqtt_topics.metering
    async with running_projector(settings), running_bridge(settings):
        for _ in range(2):
            await mqtt.publish(topic, b"not json", qos=1)
        await wait_for(lambda: rejections_applied(settings, 2), DEADLINE_S)
    rows = await query(settings, "SELECT mqtt_topic, code FROM ingest_rejections")
    assert rows == [(topic, "invalid_json")]


async def rejections_applied(settings: Settings, n: int) -> bool:
    """Whether the projection has applied `n` records of ingest.rejected (one partition)."""
    rows = await query(
        settings,
        "SELECT next_offset FROM projection_offsets WHERE topic = %s",
        settings.topics.ingest_rejected,
    )
    return rows == [(n,)]
