"""Fixtures of the simulator's integration tests: settings for this test's topic root and an
observer that plays the platform (publishes commands, records everything the VENs send)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aiomqtt
import pytest

from dr_contracts import jsonio
from dr_contracts.acks import Ack, normalize_ack
from dr_contracts.rejection import decode_object
from dr_contracts.telemetry import Telemetry, normalize_telemetry
from dr_contracts.topics import MqttTopics
from dr_runtime.mqtt import make_client
from dr_runtime.settings import MqttSettings
from ven_sim.settings import Settings


class Observer:
    """The platform side: records every message under the test's root, sends commands."""

    def __init__(self, client: aiomqtt.Client, topics: MqttTopics) -> None:
        self.client = client
        self.topics = topics
        self.messages: list[tuple[str, bytes, float]] = []

    async def run(self) -> None:
        async for message in self.client.messages:
            assert isinstance(message.payload, bytes)
            self.messages.append((message.topic.value, message.payload, asyncio.get_running_loop().time()))

    async def send(self, ven_id: str, body: dict[str, Any] | bytes) -> float:
        """Publish a command (QoS 1); returns the loop time it was sent."""
        payload = body if isinstance(body, bytes) else jsonio.dumps(body)
        sent = asyncio.get_running_loop().time()
        await self.client.publish(self.topics.cmd(ven_id), payload, qos=1)
        return sent

    def raw_acks(self, ven_id: str) -> list[dict[str, Any]]:
        return [jsonio.loads(p) for t, p, _ in self.messages if t == self.topics.ack(ven_id)]

    def acks(self, ven_id: str) -> list[Ack]:
        received = datetime.now(UTC)
        return [normalize_ack(a, ven_id, received) for a in self.raw_acks(ven_id)]

    def ack_for(self, ven_id: str, cid: str | None) -> list[Ack]:
        return [a for a in self.acks(ven_id) if a.correlationId == cid]

    def payloads(self, topic: str) -> list[bytes]:
        return [p for t, p, _ in self.messages if t == topic]

    def readings(self, topic: str | None = None) -> list[Telemetry]:
        """Readings on `topic` (metering by default), as ingest will normalize them."""
        _, ven_id = self.topics.classify(topic or self.topics.metering)
        return [
            normalize_telemetry(decode_object(p), ven_id)
            for p in self.payloads(topic or self.topics.metering)
        ]


@pytest.fixture
async def observer(mqtt_url: str, mqtt_topics: MqttTopics) -> AsyncIterator[Observer]:
    client = make_client(MqttSettings(mqtt_url=mqtt_url), f"observer-{uuid.uuid4().hex[:8]}")
    async with client:
        await client.subscribe(f"{mqtt_topics.root}#", qos=1)
        observer = Observer(client, mqtt_topics)
        task = asyncio.create_task(observer.run())
        try:
            yield observer
        finally:
            task.cancel()


@pytest.fixture
def sim_settings(mqtt_url: str, mqtt_topics: MqttTopics) -> Callable[..., Settings]:
    """Settings for a small, fast fleet under this test's topic root."""

    def make(**fields: Any) -> Settings:
        defaults: dict[str, Any] = {"vens": 3, "interval_s": 1.0, "log_level": "WARNING"}
        return Settings(mqtt_url=mqtt_url, mqtt_topic_root=mqtt_topics.root, **(defaults | fields))

    return make
