"""Dispatcher integration fixtures: the real parts around the dispatcher, in this test's namespace.

Commands go out over Mosquitto to VENs of the simulator (`ven_sim`), whose acks come back
over MQTT through the ingest bridge into `ven.acks`, where the dispatcher reads them.
The `vens` read model comes either from the real projector (fed by the simulator's
telemetry through the bridge) or, for tests about the dispatcher's own decisions, from
`seed_vens`, which writes fixed capabilities and online states.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from dispatcher.settings import Settings
from dr_contracts.topics import KafkaTopics, MqttTopics
from ingest.bootstrap import running_bridge
from ingest.settings import Settings as IngestSettings
from tests.integration.dispatcher.support import FactTail
from ven_sim.bootstrap import running_simulator
from ven_sim.settings import Settings as SimSettings
from ven_sim.simulator import Simulator

StartSim = Callable[..., Awaitable[Simulator]]


@pytest.fixture
def settings_for(
    kafka_bootstrap: str, kafka_topics: KafkaTopics, mqtt_url: str, mqtt_topics: MqttTopics, pg_db: str
) -> Callable[..., Settings]:
    """Settings of a dispatcher for this test (fast group joins, short ack timeout)."""
    ns = kafka_topics.namespace

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "kafka_bootstrap_servers": kafka_bootstrap,
            "topic_namespace": ns,
            "kafka_session_timeout_ms": 2000,
            "kafka_heartbeat_interval_ms": 500,
            "mqtt_url": mqtt_url,
            "mqtt_topic_root": mqtt_topics.root,
            "database_url": pg_db,
            # Groups of this test only: Tansu may keep a departed member of a group as its
            # leader, and a later member of that group then never gets partitions.
            "dispatcher_group_id": f"dispatcher-{ns}",
            "dispatcher_direct_group_id": f"dispatcher-direct-{ns}",
            "dispatcher_ack_timeout_s": 5.0,
            "dispatcher_revoke_grace_s": 2.0,
        }
        return Settings(**(base | overrides))

    return make


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for()


@pytest.fixture
def ingest_settings(settings: Settings) -> IngestSettings:
    """Bridge and projector on the same broker, topics, MQTT root and database."""
    ns = settings.topic_namespace
    return IngestSettings(
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
        topic_namespace=ns,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        mqtt_url=settings.mqtt_url,
        mqtt_topic_root=settings.mqtt_topic_root,
        database_url=settings.database_url,
        bridge_client_id=f"bridge-{ns}",
        telemetry_retention_every_s=0,  # 2023 readings (tests/samples.py) are past retention
        bridge_session_expiry_s=60,
        projector_group_id=f"projector-{ns}",
        projector_poll_ms=50,
    )


@pytest.fixture
async def bridge(ingest_settings: IngestSettings) -> AsyncIterator[None]:
    """The ingest bridge: VEN acks (and telemetry) from MQTT into Kafka."""
    async with running_bridge(ingest_settings):
        yield


@pytest.fixture
async def start_sim(mqtt_url: str, mqtt_topics: MqttTopics) -> AsyncIterator[StartSim]:
    """Start simulated VENs under this test's MQTT root; all are stopped after the test.

    `await start_sim(vens=3, prefix="ven-", **faults)` returns the running `Simulator`
    once every link is subscribed. VEN ids are `<prefix>001`, `<prefix>002`, ...
    Telemetry is hourly unless asked otherwise: only the projector test needs it.
    """
    async with contextlib.AsyncExitStack() as stack:

        async def start(**fields: Any) -> Simulator:
            defaults: dict[str, Any] = {"vens": 3, "interval_s": 3600.0, "log_level": "WARNING"}
            sim_settings = SimSettings(
                mqtt_url=mqtt_url, mqtt_topic_root=mqtt_topics.root, **(defaults | fields)
            )
            return await stack.enter_async_context(running_simulator(sim_settings))

        yield start


@pytest.fixture
async def tail(settings: Settings) -> AsyncIterator[FactTail]:
    """Events, commands and acks as they reach Kafka."""
    topics = settings.topics
    async with FactTail(settings, topics.dr_events, topics.dr_commands, topics.ven_acks).running() as running:
        yield running
