"""A partition that stops moving while records wait is no longer silent (PROJECTOR_STALL_S).

Here Postgres holds the projector up: the offsets row of the partition is locked by another
transaction, so the next batch waits inside its own. The projector must log the stall once
(the partition, both offsets, how long the batch has been in the handler), then, once the lock
is gone, the resumption, and nothing may be lost.
"""

from __future__ import annotations

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from ingest.settings import Settings
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, Worker
from tests.integration.ingest.test_poison import applied, at_least, names
from tests.integration.ingest.test_undecodable import produce, registered

pytestmark = pytest.mark.integration


async def test_a_held_up_partition_is_logged_as_stalled_then_as_resumed(
    settings: Settings, producer: AIOKafkaProducer, workers: list[Worker]
) -> None:
    topic = settings.topics.ven_registry
    projector = Worker("projector", settings, "projection.assigned", PROJECTOR_STALL_S="1")
    workers.append(projector)
    await projector.started()
    await produce(producer, topic, registered("ven-1"))
    await wait_for(lambda: at_least(applied(settings, topic), 1), DEADLINE_S)
    assert projector.logged("projection.stalled") == []  # caught up: nothing waits

    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn, conn.transaction():
        await conn.execute(
            "SELECT 1 FROM projection_offsets WHERE topic = %s AND partition = 0 FOR UPDATE", [topic]
        )
        await produce(producer, topic, registered("ven-2"))
        stalled = await wait_for(
            lambda: projector.logged("projection.stalled"), DEADLINE_S, message="no projection.stalled logged"
        )
    resumed = await wait_for(
        lambda: projector.logged("projection.resumed"), DEADLINE_S, message="no projection.resumed logged"
    )
    [line] = stalled
    assert (line["topic"], line["partition"], line["applied"], line["high_watermark"]) == (topic, 0, 1, 2)
    assert line["level"] == "warning" and line["waiting"] == 1 and line["in_batch_s"] >= 1, line
    assert (resumed[0]["topic"], resumed[0]["partition"], resumed[0]["applied"]) == (topic, 0, 2)
    assert await names(settings) == [("ven-1", "ven-1"), ("ven-2", "ven-2")]
