"""Dispatcher settings: the shared blocks plus its own (env DISPATCHER_*)."""

from __future__ import annotations

import os
import socket

from pydantic import Field

from dr_runtime.settings import FleetSettings, KafkaSettings, MqttSettings, PostgresSettings, ServiceSettings


def _default_instance() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(ServiceSettings, KafkaSettings, MqttSettings, PostgresSettings, FleetSettings):
    dispatcher_group_id: str = Field(default="dispatcher", description="group owning dr.events partitions")
    dispatcher_direct_group_id: str = Field(
        default="dispatcher-direct", description="group owning dr.commands partitions (direct commands)"
    )
    dispatcher_instance_id: str = Field(
        default_factory=_default_instance, description="names this replica (MQTT client id, logs)"
    )
    dispatcher_ack_timeout_s: float = Field(default=10.0, gt=0, description="wait for the 1st ack")
    dispatcher_max_attempts: int = Field(default=3, ge=1, description="sends per command, re-sends included")
    dispatcher_backoff: float = Field(default=2.0, ge=1, description="ack wait multiplier per attempt")
    dispatcher_max_ack_wait_s: float = Field(default=60.0, gt=0, description="cap of the ack wait")
    dispatcher_revoke_grace_s: float = Field(
        default=5.0, ge=0, description="on a rebalance, wait this long for running work"
    )
    dispatcher_prepare_lead_s: float = Field(
        default=2.0, ge=0, description="choose the VENs this long before an event's start (0: at the start)"
    )
    dispatcher_metrics_port: int = Field(default=0, ge=0, description="Prometheus /metrics port; 0: off")
