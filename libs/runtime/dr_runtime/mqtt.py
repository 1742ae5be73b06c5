"""aiomqtt clients configured the one way the platform needs them (MQTT v5, QoS 1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import aiomqtt

from dr_runtime.settings import MqttSettings


def broker_address(url: str) -> tuple[str, int]:
    """`mqtt://host:port` -> (host, port); 1883 when no port is given."""
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"MQTT_URL must start with mqtt://, got {url!r}")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def make_client(settings: MqttSettings, identifier: str | None = None, **overrides: Any) -> aiomqtt.Client:
    """A v5 client with a large in-flight window: paho's default of 20 throttles fan-out."""
    host, port = broker_address(settings.mqtt_url)
    options: dict[str, Any] = {
        "hostname": host,
        "port": port,
        "identifier": identifier,
        "username": settings.mqtt_username,
        "password": settings.mqtt_password,
        "protocol": aiomqtt.ProtocolVersion.V5,
        "max_inflight_messages": settings.mqtt_max_inflight,
        "max_queued_outgoing_messages": 0,
        "keepalive": 30,
    }
    client = aiomqtt.Client(**(options | overrides))
    client.pending_calls_threshold = 100_000
    return client
