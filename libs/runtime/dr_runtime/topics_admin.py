"""Creating the platform's Kafka topics with their partition counts, before anything produces.

A broker that auto-creates topics (Tansu always does, with 4 partitions) would otherwise
give a topic whatever count the first producer's request implies, and partitions can
rarely be added later. Every service calls `ensure_platform_topics` at start; it is
idempotent and leaves existing topics as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dr_runtime.settings import KafkaSettings

log = structlog.get_logger(__name__)

_TOPIC_ALREADY_EXISTS = 36
#: TOPIC_ / CLUSTER_AUTHORIZATION_FAILED: fine if the topic exists (someone else created it).
_NOT_CREATED_BY_US = (29, 31)


class TopicSetupError(RuntimeError):
    """A topic could not be created, or exists with another partition count."""


async def ensure_platform_topics(settings: KafkaSettings, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Create the platform topics of the settings' namespace that are missing, with the
    configured partition counts; an existing topic with another count is only logged."""
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        settings.topic_partitions,
        replication=settings.kafka_replication_factor,
        timeout=timeout,
        strict=False,
    )


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    *,
    replication: int = 1,
    timeout: float = 30.0,  # noqa: ASYNC109 - one deadline for the whole operation
    strict: bool = True,
) -> None:
    """Create the missing topics (name -> partitions), then wait until metadata shows them.

    Creation comes first because describing a missing topic auto-creates it on brokers
    that allow that (Tansu does, with 4 partitions). Creating an existing topic is a no-op;
    a client not allowed to create topics (ACLs) is fine as long as they exist. An existing
    topic with another partition count is a TopicSetupError when `strict` (the local runner
    and the tests want exact counts), else a warning: the platform works with any count,
    and operators may have changed it on purpose.
    """
    if not topics:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            await _create(admin, [NewTopic(name, n, replication) for name, n in topics.items()])
            seen = await _partition_counts(admin, topics)
            while not all(name in seen for name in topics):
                await asyncio.sleep(0.05)
                seen = await _partition_counts(admin, topics)
    except TimeoutError:
        raise TopicSetupError(f"Kafka at {bootstrap}: topics not ready within {timeout:.0f}s") from None
    finally:
        await admin.close()
    differ = {name: (n, seen[name]) for name, n in topics.items() if seen[name] != n}
    if differ and strict:
        raise TopicSetupError(
            f"Kafka at {bootstrap}: topics exist with other partition counts (wanted, found): {differ}"
            " (a topic auto-created before it was created with its count keeps the broker's"
            " default: recreate it, or set KAFKA_TOPIC_PARTITIONS to what it has)"
        )
    for name, (wanted, found) in differ.items():
        log.warning("topic.partitions_differ", topic=name, configured=wanted, found=found)


async def _partition_counts(admin: AIOKafkaAdminClient, topics: Mapping[str, int]) -> dict[str, int]:
    """Partition count of each of `topics` that exists (with all its partitions known)."""
    described = await admin.describe_topics(list(topics))
    return {
        t["topic"]: len(t["partitions"]) for t in described if not t.get("error_code") and t["partitions"]
    }


async def _create(admin: AIOKafkaAdminClient, new: list[NewTopic]) -> None:
    """Create topics; one that exists, or that we may not create, is left to the describe."""
    for name, code, *rest in (await admin.create_topics(new)).topic_errors:
        if code == 0:
            log.info("topic.created", topic=name)
        elif code in _NOT_CREATED_BY_US:
            log.info("topic.not_created", topic=name, error_code=code)
        elif code != _TOPIC_ALREADY_EXISTS:
            raise TopicSetupError(f"cannot create Kafka topic {name}: error {code} {rest[:1]}")
