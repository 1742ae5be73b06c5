"""End-to-end fixtures: every service as its own process against the real brokers.

`platform_factory(vens=..., sim_args=[...])` starts projector, bridge, dispatcher, api
and ven-sim (dr_infra.Platform, the same wiring `make run` uses) in this test's
namespace: its own topics, MQTT root, database and consumer groups. `start_sim=False`
leaves ven-sim for the test to start (`platform.start("ven-sim")`), e.g. after it has
registered the VENs itself; `env` overrides settings for this test's services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from dr_contracts.topics import KafkaTopics
from dr_infra.errors import log_tail
from dr_infra.platform import SERVICES, Platform

from .helpers import INTERVAL_S, ven_prefix

#: Lines of each service's log attached to a failing e2e test's report.
LOG_TAIL_LINES = 80


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing e2e test carries its services' log tails in its report.

    pytest keeps only the newest three temporary directories, so logs under `tmp_path` are
    gone by the time someone reads a failure from a long run; the report is what stays.
    """
    report = yield
    tmp_path = getattr(item, "funcargs", {}).get("tmp_path")
    if report.failed and isinstance(tmp_path, Path):
        for log in sorted((tmp_path / "logs").glob("*.log")):
            title = f"{log.stem} log (last {LOG_TAIL_LINES} lines)"
            report.sections.append((title, log_tail(log, LOG_TAIL_LINES)))
    return report


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

    def start(
        vens: int,
        sim_args: list[str] | None = None,
        *,
        start_sim: bool = True,
        env: dict[str, str] | None = None,
    ) -> Platform:
        platform = Platform(
            platform_env | (env or {}),
            log_dir=tmp_path / "logs",
            vens=vens,
            sim_args=["--prefix", ven_prefix(ns), "--interval", str(INTERVAL_S), *(sim_args or [])],
        )
        started.append(platform)
        platform.migrate()
        # The four platform services start side by side (nothing is produced before the api
        # and the simulator run, so none waits for another), then the simulator.
        backend = [name for name in SERVICES if name in platform.services and name != "ven-sim"]
        with ThreadPoolExecutor(len(backend)) as pool:
            for future in [pool.submit(platform.services[name].start) for name in backend]:
                future.result()
        if start_sim and "ven-sim" in platform.services:
            platform.start("ven-sim")
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
