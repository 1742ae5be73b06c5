"""FastStream brokers configured the one way the platform needs them (the messaging framework).

The Kafka broker publishes with acks=all and no idempotence (Tansu and some managed brokers
lack InitProducerId: consumers are idempotent instead). Subscribers built with
:func:`subscriber_options` start from `earliest`, never auto-commit (AckPolicy.MANUAL) and
use the group timing of the settings. FastStream's own per-message log lines go to DEBUG:
on the hot paths (thousands of messages a second) they would cost more than the work.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from dr_runtime.settings import KafkaSettings

#: FastStream logs each consumed message at this level; DEBUG keeps them out of INFO logs.
MESSAGE_LOG_LEVEL = logging.DEBUG


def kafka_broker(settings: KafkaSettings, *, client_id: str, **overrides: Any) -> KafkaBroker:
    """A broker whose producer appends facts durably (acks=all) and batches with the settings' linger."""
    options: dict[str, Any] = {
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": settings.kafka_linger_ms,
        "max_batch_size": settings.kafka_max_batch_size,
        "request_timeout_ms": 15000,
        "logger": structlog.get_logger("faststream"),
        "log_level": MESSAGE_LOG_LEVEL,
        "graceful_timeout": 15.0,
    }
    return KafkaBroker(settings.kafka_bootstrap_servers, **(options | overrides))


def subscriber_options(settings: KafkaSettings, *, group_id: str | None, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for `broker.subscriber(...)`: earliest, manual acks, the settings' group timing."""
    options: dict[str, Any] = {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.MANUAL,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "max_poll_interval_ms": 300_000,
    }
    return options | overrides
