"""A broker restart: every link reconnects and resubscribes by itself, the VENs answer again."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from dr_contracts.commands import simple_command
from dr_contracts.topics import MqttTopics
from dr_infra import Mosquitto
from dr_runtime.mqtt import make_client
from dr_runtime.settings import MqttSettings
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer
from ven_sim.bootstrap import running_simulator
from ven_sim.settings import Settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("mode", ["multiplexed", "per-ven"])
async def test_links_come_back_after_a_broker_restart(mode: str) -> None:
    with Mosquitto() as broker:
        settings = Settings(mqtt_url=broker.url, vens=2, mode=mode, interval_s=1.0, log_level="WARNING")
        async with running_simulator(settings) as sim:
            await asyncio.to_thread(broker.restart)
            await wait_for(
                lambda: all(link.ready.is_set() and link.connects == 2 for link in sim.links),
                timeout=30,
                message="links reconnected",
            )
            async with make_client(
                MqttSettings(mqtt_url=broker.url), f"obs-{uuid.uuid4().hex[:6]}"
            ) as client:
                await client.subscribe("#", qos=1)
                observer = Observer(client, MqttTopics())
                reader = asyncio.create_task(observer.run())
                try:
                    await observer.send(
                        "ven-002", simple_command("ping", ven_id="ven-002", correlation_id="p-1")
                    )
                    await wait_for(
                        lambda: observer.acks("ven-002"), timeout=20, message="a pong after the restart"
                    )
                    await wait_for(
                        lambda: {r.venId for r in observer.readings()} == {"ven-001", "ven-002"},
                        timeout=20,
                        message="readings after the restart",
                    )
                finally:
                    reader.cancel()
