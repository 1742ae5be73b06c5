"""Ingest settings: the shared blocks plus the bridge's and the projector's own knobs."""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import Field

from dr_runtime.settings import (
    KafkaSettings,
    MqttSettings,
    PostgresSettings,
    ServiceSettings,
    TelemetryRetention,
)


class Settings(ServiceSettings, KafkaSettings, MqttSettings, PostgresSettings, TelemetryRetention):
    """Read from the environment (PROJECTOR_GROUP_ID, BRIDGE_CLIENT_ID, ...)."""

    # -- bridge ---------------------------------------------------------------------------
    #: Fixed MQTT client id per replica: the broker keeps its session (and what it has not
    #: acknowledged) under this id, so a restarted replica must come back with the same one.
    bridge_client_id: str = Field(default_factory=lambda: f"ingest-bridge-{socket.gethostname()}")
    #: Shared-subscription group: every replica in it gets a share of the messages.
    bridge_share_group: str = "ingest"
    #: How long the broker keeps the session (and queues QoS 1 messages) while we are away.
    bridge_session_expiry_s: int = Field(default=86_400, ge=0)
    #: QoS 1 messages the broker may send ahead of our PUBACKs (MQTT v5 Receive Maximum):
    #: bounds what waits in the bridge for Kafka's ack.
    bridge_max_pending: int = Field(default=20_000, ge=1, le=65_535)
    #: On stop, how long the graceful leave may take (forward what the broker dealt us, then
    #: end the session); past it the session is kept, as after a crash.
    bridge_drain_timeout_s: float = Field(default=5.0, gt=0)
    #: Producer linger for the bridge: larger batches halve the broker's CPU per reading
    #: (measured on Tansu: ~100 -> ~46 us at 20 -> 100 ms) for at most this much latency.
    bridge_linger_ms: int = Field(default=100, ge=0)
    #: Largest payload accepted (the contract's 128 KiB).
    bridge_max_payload_bytes: int = Field(default=128 * 1024, ge=1)
    #: The PKI's gateways.json: the VENs each gateway speaks for. A legacy reading the broker
    #: stamped with its gateway is refused unless that gateway owns the VEN (docs/security.md).
    bridge_gateways_file: Path | None = None

    # -- projector ------------------------------------------------------------------------
    projector_group_id: str = "projector"
    #: Facts applied per Postgres transaction at most.
    projector_max_batch: int = Field(default=5_000, ge=1)
    #: How long one poll waits for facts; FastStream's batch subscriber sleeps as long again
    #: after an empty poll, so this bounds the added latency of a fact that arrives then.
    projector_poll_ms: int = Field(default=10, ge=1)
    #: How long the broker may hold an empty fetch; low keeps read-your-writes fast (Tansu holds ~half).
    projector_fetch_wait_ms: int = Field(default=10, ge=1)
    #: A partition with records waiting and none applied for this long is logged as stalled.
    projector_stall_s: float = Field(default=15.0, gt=0)

    #: Prometheus metrics on this port (0: off).
    metrics_port: int = Field(default=0, ge=0, le=65535)
