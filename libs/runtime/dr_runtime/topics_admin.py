"""Creating the platform's Kafka topics with their partition counts, before anything produces.

A broker that auto-creates topics (Tansu always does, with 4 partitions) would otherwise
give a topic whatever count the first producer's request implies, and partitions can
rarely be added later. Every service calls `ensure_platform_topics` at start; it is
idempotent and leaves existing topics as they are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dr_runtime.settings import KafkaSettings

log = structlog.get_logger(__name__)

_TOPIC_ALREADY_EXISTS = 36


class TopicSetupError(RuntimeError):
    """A topic could not be created, or exists with another partition count."""


async def ensure_platform_topics(settings: KafkaSettings, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Every platform topic of the settings' namespace, with the configured partition counts."""
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        settings.topic_partitions,
        replication=settings.kafka_replication_factor,
        timeout=timeout,
    )


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    *,
    replication: int = 1,
    timeout: float = 30.0,  # noqa: ASYNC109 - one deadline for the whole operation
) -> None:
    """Create each topic (name -> partitions) unless it exists, then wait until metadata
    shows every one with that many partitions; TopicSetupError otherwise."""
    if not topics:
        return
    deadline = time.monotonic() + timeout
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    seen: dict[str, int] = {}
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            new = [
                NewTopic(name, num_partitions=n, replication_factor=replication) for name, n in topics.items()
            ]
            for name, code, *rest in (await admin.create_topics(new)).topic_errors:
                if code == 0:
                    log.info("topic.created", topic=name, partitions=topics[name])
                elif code != _TOPIC_ALREADY_EXISTS:
                    raise TopicSetupError(f"cannot create Kafka topic {name}: error {code} {rest[:1]}")
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
        raise TopicSetupError(f"Kafka at {bootstrap}: topics not ready within {timeout:.0f}s") from None
    finally:
        await admin.close()
    wanted = {name: n for name, n in topics.items() if seen.get(name) != n}
    raise TopicSetupError(
        f"Kafka at {bootstrap}: topics do not have the wanted partition counts: wanted {wanted}, "
        f"metadata shows { {name: seen.get(name) for name in wanted} } (a topic auto-created before "
        "it was created with its count keeps the broker's default: recreate it, or set "
        "KAFKA_TOPIC_PARTITIONS to what it has)"
    )
