"""Dispatcher integration fixtures: settings for this test's namespace, test VENs, fact tails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from dispatcher.settings import Settings
from dr_contracts.topics import KafkaTopics, MqttTopics
from tests.integration.dispatcher.support import FactTail, TestVens


@pytest.fixture
def settings_for(
    kafka_bootstrap: str, kafka_topics: KafkaTopics, mqtt_url: str, mqtt_topics: MqttTopics, pg_db: str
) -> Callable[..., Settings]:
    """Settings of a dispatcher for this test (fast group joins, short ack timeout)."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "kafka_bootstrap_servers": kafka_bootstrap,
            "topic_namespace": kafka_topics.namespace,
            "kafka_session_timeout_ms": 2000,
            "kafka_heartbeat_interval_ms": 500,
            "mqtt_url": mqtt_url,
            "mqtt_topic_root": mqtt_topics.root,
            "database_url": pg_db,
            "dispatcher_ack_timeout_s": 5.0,
            "dispatcher_revoke_grace_s": 2.0,
        }
        return Settings(**(base | overrides))

    return make


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for()


@pytest.fixture
async def vens(settings: Settings) -> AsyncIterator[TestVens]:
    async with TestVens(settings.mqtt_url, settings.mqtt_topics, settings).running() as running:
        yield running


@pytest.fixture
async def tail(settings: Settings) -> AsyncIterator[FactTail]:
    topics = settings.topics
    async with FactTail(settings, topics.dr_events, topics.dr_commands).running() as running:
        yield running
