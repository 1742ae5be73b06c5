"""End-to-end fixtures: every service as its own process against the real brokers.

`platform_factory(vens=..., sim_args=[...])` starts projector, bridge, dispatcher, api
and ven-sim (dr_infra.Platform, the same wiring `make run` uses) in this test's
namespace: its own topics, MQTT root, database and consumer groups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from dr_contracts.topics import KafkaTopics
from dr_infra.platform import Platform


@pytest.fixture
def platform_env(
    kafka_bootstrap: str, mqtt_url: str, pg_db: str, ns: str, kafka_topics: KafkaTopics
) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MQTT_URL": mqtt_url,
        "DATABASE_URL": pg_db,
        "TOPIC_NAMESPACE": ns,
        "MQTT_TOPIC_ROOT": f"{ns}/",
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        # Tansu can keep a departed member as group leader: fresh groups per test.
        "PROJECTOR_GROUP_ID": f"projector-{ns}",
        "DISPATCHER_GROUP_ID": f"dispatcher-{ns}",
        "DISPATCHER_DIRECT_GROUP_ID": f"dispatcher-direct-{ns}",
        "BRIDGE_CLIENT_ID": f"bridge-{ns}",
        "DISPATCHER_ACK_TIMEOUT_S": "5",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def platform_factory(
    platform_env: dict[str, str], tmp_path: Path, ns: str
) -> Iterator[Callable[..., Platform]]:
    started: list[Platform] = []

    def start(vens: int, sim_args: list[str] | None = None) -> Platform:
        platform = Platform(
            platform_env,
            log_dir=tmp_path / "logs",
            vens=vens,
            sim_args=["--prefix", f"{ns}-v", "--interval", "1", *(sim_args or [])],
        )
        started.append(platform)
        platform.__enter__()
        return platform

    yield start
    for platform in started:
        platform.stop()


@pytest.fixture
async def api_for() -> AsyncIterator[Callable[[Platform], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(platform: Platform) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=platform.api_url, timeout=10)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
