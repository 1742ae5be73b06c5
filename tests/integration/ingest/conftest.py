"""Ingest against the real broker, Mosquitto and Postgres: settings, clients, processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiomqtt
import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from dr_contracts.facts import FactPayload, new_fact
from dr_contracts.topics import KafkaTopics, MqttTopics
from dr_infra.services import ServiceProcess, log_probe
from dr_runtime.kafka import make_producer
from dr_runtime.mqtt import make_client
from ingest.settings import Settings
from tests.fixtures.kafka_facts import send_facts
from tests.fixtures.waiting import wait_for

DEADLINE_S = 30.0


@pytest.fixture
def settings(
    ns: str,
    kafka_topics: KafkaTopics,
    mqtt_topics: MqttTopics,
    pg_db: str,
    kafka_bootstrap: str,
    mqtt_url: str,
) -> Settings:
    return Settings(
        topic_namespace=ns,
        mqtt_topic_root=mqtt_topics.root,
        database_url=pg_db,
        kafka_bootstrap_servers=kafka_bootstrap,
        mqtt_url=mqtt_url,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        bridge_client_id=f"bridge-{ns}",
        projector_poll_ms=50,
        # Readings carry 2023 timestamps (tests/samples.py): past any retention horizon.
        telemetry_retention_every_s=0,
        # One group per test: Tansu can keep a departed member as a group's leader, and a
        # later member of that group then never gets its partitions (docs/infrastructure.md, Tansu).
        projector_group_id=f"projector-{ns}",
    )


@pytest.fixture
async def mqtt(settings: Settings) -> AsyncIterator[aiomqtt.Client]:
    """A VEN-side client (QoS 1 publishes)."""
    async with make_client(settings, f"ven-side-{settings.topic_namespace}") as client:
        yield client


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(settings)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def append(producer: AIOKafkaProducer, settings: Settings, *payloads: FactPayload) -> list[Any]:
    """Append facts as the API or the dispatcher would; return their record metadata."""
    return await send_facts(producer, settings, [new_fact(p) for p in payloads])


async def query(settings: Settings, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows from the projection (autocommit: every poll sees the latest commit)."""
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as conn:
        cursor = await conn.execute(sql, params or None)
        return await cursor.fetchall()


async def count(settings: Settings, table: str) -> int:
    return (await query(settings, f"SELECT count(*) FROM {table}"))[0][0]


async def wait_rows(settings: Settings, table: str, expected: int, timeout: float = DEADLINE_S) -> None:  # noqa: ASYNC109
    """Wait until `table` has exactly `expected` rows (more fails at once)."""

    seen: list[int] = []

    async def reached() -> bool:
        n = await count(settings, table)
        assert n <= expected, f"{table} has {n} rows, more than the {expected} expected"
        seen.append(n)
        return n == expected

    await wait_for(
        reached,
        timeout,
        0.1,
        lambda: f"{table} never reached {expected} rows (counts seen: {sorted(set(seen))[-10:]})",
    )


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives `python -m ingest` these settings."""
    values = settings.model_dump(exclude={"log_json"}) | {k.lower(): v for k, v in extra.items()}
    env = {k.upper(): _env_value(v) for k, v in values.items() if v is not None}
    return os.environ | env | {"LOG_JSON": "true"}


def _env_value(value: object) -> str:
    """A setting as the environment spells it (a mapping as `name=value,name=value`)."""
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


class Worker(ServiceProcess):
    """`python -m ingest <command>` on dr_infra's process runner, launched at once;
    `started()` waits for its `ready_event` log line.

    `code`: run this Python source instead of `-m ingest` (it gets `command` as its argument).
    """

    def __init__(
        self, command: str, settings: Settings, ready_event: str, code: str | None = None, **env: str
    ) -> None:
        self.program = ["-m", "ingest"] if code is None else ["-c", code]
        super().__init__(
            f"ingest-{command}",
            [command],
            env_of(settings, **env),
            probe=log_probe(ready_event),
            startup_timeout=DEADLINE_S,
        )
        self.start(wait=False)

    def _command(self) -> list[str]:
        return [sys.executable, *self.program, *self.module_args]

    async def started(self) -> None:
        await asyncio.to_thread(self.wait_ready)

    async def exited(self, timeout: float = DEADLINE_S) -> int:  # noqa: ASYNC109
        """Wait for the process to end by itself; its exit code."""
        await wait_for(
            lambda: self.returncode is not None,
            timeout,
            message=lambda: f"still running; log:\n{self.log_tail(20)}",
        )
        assert self.returncode is not None
        return self.returncode

    def logged(self, event: str) -> list[dict[str, Any]]:
        """The JSON log lines of `event`."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in map(_json_line, lines) if line.get("event") == event]


def _json_line(line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Processes a test starts; every one is stopped afterwards."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()
