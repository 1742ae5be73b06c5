"""Kafka topic administration for the platform's topics, and a metadata probe.

Tansu auto-creates unknown topics with 4 partitions, so every topic must be created
with its partition count (:func:`ensure_topics`) before anything produces to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from dr_contracts.topics import DEFAULT_PARTITIONS, KafkaTopics

from .errors import InfraError

T = TypeVar("T")

_TOPIC_ALREADY_EXISTS = 36


def run_coroutine_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` to completion from sync code, even inside a running event loop.

    Without a running loop it uses :func:`asyncio.run`; with one (sync code called
    from async code) it runs the coroutine with its own loop in a fresh thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dr-infra-aio") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def kafka_metadata(bootstrap: str, timeout: float = 5.0) -> list[str]:  # noqa: ASYNC109
    """Fetch cluster metadata (a real Kafka request); return the topic names."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=max(1000, int(timeout * 1000))
    )
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            return await admin.list_topics()
    finally:
        await admin.close()


def topic_partitions(namespace: str = "", overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """Concrete topic name -> partition count for every platform topic of ``namespace``.

    ``overrides`` maps *base* names (e.g. ``"dr.commands"``) to partition counts.
    """
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(DEFAULT_PARTITIONS)
    if unknown:
        raise ValueError(f"unknown topic base names in overrides: {sorted(unknown)}")
    names = KafkaTopics(namespace).all()
    return {names[base]: overrides.get(base, count) for base, count in DEFAULT_PARTITIONS.items()}


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    timeout: float = 30.0,  # noqa: ASYNC109 - one deadline for the whole operation
) -> None:
    """Create each topic with its partition count (replication 1) unless it exists,
    then wait until metadata shows every topic with that many partitions.

    Raises :class:`InfraError` when a topic cannot be created or exists with another
    partition count (Tansu cannot add partitions: recreate it instead).
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    if not topics:
        return
    deadline = time.monotonic() + timeout
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            new = [NewTopic(name, num_partitions=n, replication_factor=1) for name, n in topics.items()]
            response = await admin.create_topics(new)
            for error in response.topic_errors:
                name, code = error[0], error[1]
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    message = error[2] if len(error) > 2 else ""
                    raise InfraError(f"cannot create Kafka topic {name}: error {code} {message}")
            seen: dict[str, int] = {}
            while True:
                described = await admin.describe_topics(list(topics))
                seen = {t["topic"]: len(t["partitions"]) for t in described if not t.get("error_code")}
                if all(seen.get(name) == n for name, n in topics.items()):
                    return
                wrong = [name for name, n in topics.items() if seen.get(name, n) not in (0, n)]
                if wrong or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise InfraError(f"Kafka at {bootstrap}: topics not ready within {timeout:.0f}s") from None
    finally:
        await admin.close()
    wanted = {name: n for name, n in topics.items() if seen.get(name) != n}
    shown = {name: seen.get(name) for name in wanted}
    raise InfraError(
        f"Kafka at {bootstrap}: topics do not have the wanted partition counts: wanted {wanted}, "
        f"metadata shows {shown} (a topic auto-created "
        "before ensure_topics() ran has 4 partitions on Tansu: delete or rename it)"
    )
