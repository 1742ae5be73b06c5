"""Create the platform's topics when they are missing (the CLI does, before producing):
on a broker that auto-creates topics, the first produce would pick the wrong partition count."""

from __future__ import annotations

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dr_contracts.topics import DEFAULT_PARTITIONS
from dr_runtime.settings import KafkaSettings

log = structlog.get_logger(__name__)

_ALREADY_EXISTS = 36


async def ensure_topics(settings: KafkaSettings, replication: int = 1) -> None:
    """Create each platform topic with its default partition count unless it exists."""
    names = settings.topics.all()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        response = await admin.create_topics(
            [
                NewTopic(names[base], num_partitions=count, replication_factor=replication)
                for base, count in DEFAULT_PARTITIONS.items()
            ]
        )
        for name, code, *_ in response.topic_errors:
            if code not in (0, _ALREADY_EXISTS):
                raise RuntimeError(f"cannot create Kafka topic {name}: error {code}")
            if code == 0:
                log.info("topic.created", topic=name)
    finally:
        await admin.close()
