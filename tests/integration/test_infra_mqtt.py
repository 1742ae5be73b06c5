"""MQTT v5 through the session's broker, and restarts of a private Mosquitto."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from dr_contracts.topics import MqttTopics
from dr_infra import Mosquitto
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.integration

V5 = aiomqtt.ProtocolVersion.V5


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


@asynccontextmanager
async def client(url: str, **kwargs: object) -> AsyncIterator[aiomqtt.Client]:
    host, port = host_port(url)
    kwargs.setdefault("identifier", f"test-{uuid.uuid4().hex[:10]}")
    async with aiomqtt.Client(host, port, protocol=V5, timeout=10, **kwargs) as c:  # type: ignore[arg-type]
        yield c


async def collect(c: aiomqtt.Client, into: list[aiomqtt.Message]) -> None:
    async for message in c.messages:
        into.append(message)


async def test_publish_subscribe_qos1_v5(mqtt_url: str, mqtt_topics: MqttTopics) -> None:
    topic = mqtt_topics.cmd("ven-1")
    received: list[aiomqtt.Message] = []
    async with client(mqtt_url) as sub:
        await sub.subscribe(topic, qos=1)  # returns after the SUBACK
        reader = asyncio.create_task(collect(sub, received))
        try:
            async with client(mqtt_url) as pub:
                for i in range(50):
                    await pub.publish(topic, f"m{i}".encode(), qos=1)
            await wait_for(lambda: len(received) >= 50, message=lambda: f"got {len(received)}/50")
        finally:
            reader.cancel()
    assert [m.payload for m in received] == [f"m{i}".encode() for i in range(50)]
    assert all(m.qos == 1 and m.topic.matches(topic) for m in received)


async def test_shared_subscription_splits_messages(mqtt_url: str, mqtt_topics: MqttTopics) -> None:
    topic_filter = f"$share/g/{mqtt_topics.root}ven/ack/+"
    got_a: list[aiomqtt.Message] = []
    got_b: list[aiomqtt.Message] = []
    async with client(mqtt_url) as a, client(mqtt_url) as b:
        await a.subscribe(topic_filter, qos=1)
        await b.subscribe(topic_filter, qos=1)
        readers = [asyncio.create_task(collect(a, got_a)), asyncio.create_task(collect(b, got_b))]
        try:
            async with client(mqtt_url) as pub:
                await asyncio.gather(
                    *(pub.publish(mqtt_topics.ack(f"ven-{i}"), str(i), qos=1) for i in range(200))
                )
            await wait_for(
                lambda: len(got_a) + len(got_b) >= 200,
                message=lambda: f"got {len(got_a)} + {len(got_b)} of 200",
            )
        finally:
            for reader in readers:
                reader.cancel()
    payloads = [m.payload for m in got_a + got_b]
    assert sorted(payloads) == sorted(str(i).encode() for i in range(200))  # each exactly once
    assert got_a and got_b, "both members of the share group should get messages"


async def test_restart_keeps_port_and_clients_reconnect() -> None:
    with Mosquitto() as broker:
        port, workdir = broker.port, broker.workdir
        async with client(broker.url) as before:
            await before.publish("restart/probe", b"1", qos=1)
        old_pid = broker.pid
        broker.restart()
        assert (broker.port, broker.workdir) == (port, workdir)
        assert broker.pid != old_pid
        received: list[aiomqtt.Message] = []
        async with client(broker.url) as sub, client(broker.url) as pub:
            await sub.subscribe("restart/probe", qos=1)
            reader = asyncio.create_task(collect(sub, received))
            await pub.publish("restart/probe", b"2", qos=1)
            await wait_for(lambda: received, message="no message after restart")
            reader.cancel()
        assert received[0].payload == b"2"


async def test_persistent_session_keeps_queued_qos1_message_across_restart() -> None:
    session_props = Properties(PacketTypes.CONNECT)
    session_props.SessionExpiryInterval = 3600
    persistent = {"identifier": "persistent-ven", "clean_start": False, "properties": session_props}
    with Mosquitto() as broker:
        async with client(broker.url, **persistent) as sub:
            await sub.subscribe("ven/cmd/persistent-ven", qos=1)
        # Subscriber offline: the broker queues QoS 1 messages for its session.
        async with client(broker.url) as pub:
            await pub.publish("ven/cmd/persistent-ven", b"while-offline", qos=1)

        broker.restart()  # SIGTERM: Mosquitto writes its persistence file

        received: list[aiomqtt.Message] = []
        async with client(broker.url, **persistent) as sub:
            reader = asyncio.create_task(collect(sub, received))
            await wait_for(lambda: received, message="queued message lost in the restart")
            # The subscription itself survived too: no new subscribe needed.
            async with client(broker.url) as pub:
                await pub.publish("ven/cmd/persistent-ven", b"after-restart", qos=1)
            await wait_for(lambda: len(received) >= 2, message="subscription lost in restart")
            reader.cancel()
        assert [m.payload for m in received] == [b"while-offline", b"after-restart"]
