"""The aiokafka consumer behind a FastStream subscriber that has no handler."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer
from faststream.kafka.subscriber.usecase import LogicSubscriber


def started_consumer(subscriber: LogicSubscriber[Any]) -> AIOKafkaConsumer:
    """FastStream builds the consumer when the broker starts and drops it when it stops."""
    if subscriber.consumer is None:
        raise RuntimeError(f"subscriber {subscriber.topics} is not started")
    return subscriber.consumer
