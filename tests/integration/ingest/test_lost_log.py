"""A Kafka log shorter than the stored offsets (the broker lost it) stops the projector loudly.

The local broker keeps its log in memory: after a restart each partition starts again at
offset 0 while Postgres still holds the offsets of the old log. Carrying on would skip the new
log's records below those offsets as "already applied". Here the stored offset is moved past
the end of the log, as a lost log leaves it; the projector must stop, name the partition and
both offsets, and apply nothing.
"""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from ingest.bootstrap import running_projector
from ingest.settings import Settings
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, Worker, query
from tests.integration.ingest.test_poison import applied, at_least, names
from tests.integration.ingest.test_undecodable import produce, registered

pytestmark = pytest.mark.integration

#: Where the lost, longer log had been projected up to.
STORED = 100


async def test_a_log_shorter_than_the_stored_offsets_stops_the_projector_and_applies_nothing(
    settings: Settings, producer: AIOKafkaProducer, workers: list[Worker]
) -> None:
    topic = settings.topics.ven_registry
    async with running_projector(settings) as projector:
        await wait_for(projector.assigned.is_set, DEADLINE_S)
        await produce(producer, topic, registered("ven-1"), registered("ven-2"))
        await wait_for(lambda: at_least(applied(settings, topic), 2), DEADLINE_S)
    await query(
        settings,
        "UPDATE projection_offsets SET next_offset = %s WHERE topic = %s AND partition = 0 RETURNING 1",
        STORED,
        topic,
    )
    await produce(producer, topic, registered("ven-3"))  # the log now ends at offset 3

    projector = Worker("projector", settings, "projection.assigned")
    workers.append(projector)
    assert await projector.exited() == 1
    [lost] = projector.logged("projection.log_lost")
    assert (lost["topic"], lost["partition"], lost["stored"], lost["log_end"]) == (topic, 0, STORED, 3)
    assert "lost its log" in lost["error"], lost
    assert await names(settings) == [("ven-1", "ven-1"), ("ven-2", "ven-2")]  # ven-3 not applied
    assert await query(
        settings, "SELECT next_offset FROM projection_offsets WHERE topic = %s AND partition = 0", topic
    ) == [(STORED,)]
