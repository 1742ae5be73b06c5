"""Kafka topic administration for the platform's topics, and a metadata probe.

Tansu auto-creates unknown topics with 4 partitions, so every topic must be created
with its partition count (:func:`ensure_topics`) before anything produces to it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from dr_contracts.topics import KafkaTopics
from dr_runtime import topics_admin

from .errors import InfraError

T = TypeVar("T")


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
    """Concrete topic name -> partition count for every platform topic of ``namespace``."""
    return KafkaTopics(namespace).partitions(overrides)


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    timeout: float = 30.0,  # noqa: ASYNC109 - one deadline for the whole operation
) -> None:
    """Create each topic with its partition count unless it exists; InfraError when one exists
    with another count (dr_runtime does the work)."""
    try:
        await topics_admin.ensure_topics(bootstrap, topics, timeout=timeout)
    except topics_admin.TopicSetupError as exc:
        raise InfraError(str(exc)) from None
