"""A bridge replica that is stopped leaves the shared subscription without stranding messages.

Mosquitto 2.0 keeps dealing shares to an offline persistent session: without the graceful
leave, the stopped replica's share of every later message would wait in its session.
"""

from __future__ import annotations

import os
import signal

import aiomqtt
import pytest

from ingest.bootstrap import running_bridge, running_projector
from ingest.settings import Settings
from tests.integration.ingest.conftest import Worker
from tests.integration.ingest.test_exactly_once import assert_stored_once, publish_readings

pytestmark = pytest.mark.integration


async def test_a_stopped_bridge_hands_over_everything_to_the_remaining_one(
    settings: Settings, mqtt: aiomqtt.Client, workers: list[Worker]
) -> None:
    dealt, after = 1000, 1000
    leaving = Worker(
        "bridge",
        settings,
        "bridge.subscribed",
        BRIDGE_CLIENT_ID=f"{settings.bridge_client_id}-leaving",
        BRIDGE_MAX_PENDING="50",
        BRIDGE_DRAIN_TIMEOUT_S="15",
    )
    workers.append(leaving)
    await leaving.started()
    async with running_projector(settings), running_bridge(settings) as staying:
        # Frozen, the leaving replica takes its share (50 in flight, the rest queued at the
        # broker for its session): what it holds when told to stop is known to be a lot.
        os.kill(leaving.pid, signal.SIGSTOP)
        try:
            await publish_readings(mqtt, settings, dealt, per_s=2000)
        finally:
            os.kill(leaving.pid, signal.SIGTERM)
            os.kill(leaving.pid, signal.SIGCONT)
        assert await leaving.exited() == 0
        [left] = leaving.logged("bridge.left")
        assert left["drained"] > 0, "the leaving replica should have had its share to drain"
        await assert_stored_once(settings, dealt)
        assert staying.forwarded + left["forwarded"] == dealt  # each message forwarded once

        before = staying.forwarded
        await publish_readings(mqtt, settings, after, first=dealt)
        await assert_stored_once(settings, dealt + after)
        assert staying.forwarded - before == after  # the broker deals nothing to the one that left
