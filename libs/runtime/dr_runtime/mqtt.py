"""aiomqtt clients configured the one way the platform needs them (MQTT v5, QoS 1), over
plain TCP (`mqtt://`) or TLS (`mqtts://`) with an optional client certificate."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlparse

import aiomqtt

from dr_runtime.settings import MqttSettings

#: URL scheme -> (TLS, default port).
_SCHEMES = {"mqtt": (False, 1883), "tcp": (False, 1883), "mqtts": (True, 8883), "ssl": (True, 8883)}


def _parse(url: str) -> tuple[str, int, bool]:
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in _SCHEMES:
        raise ValueError(f"MQTT_URL must start with mqtt:// or mqtts://, got {url!r}")
    tls, default_port = _SCHEMES[parsed.scheme]
    return parsed.hostname or "127.0.0.1", parsed.port or default_port, tls


def broker_address(url: str) -> tuple[str, int]:
    """`mqtt://host:port` -> (host, port); 1883 (8883 for mqtts://) when no port is given."""
    host, port, _ = _parse(url)
    return host, port


def tls_context(
    settings: MqttSettings, cert_file: str | None = None, key_file: str | None = None
) -> ssl.SSLContext | None:
    """The TLS context for `settings.mqtt_url` (None for plain mqtt://).

    The broker's certificate is verified against MQTT_CA_FILE, host name included; the
    client presents `cert_file`/`key_file` (default MQTT_CERT_FILE/MQTT_KEY_FILE) when given.
    """
    if not _parse(settings.mqtt_url)[2]:
        return None
    if cert_file is None:
        cert_file, key_file = settings.mqtt_cert_file, settings.mqtt_key_file
    return client_tls(settings.mqtt_ca_file, cert_file, key_file)


def client_tls(
    ca_file: str | None, cert_file: str | None = None, key_file: str | None = None
) -> ssl.SSLContext:
    """A client's TLS context: the broker verified against `ca_file` (default: the system's
    CAs), host name included, TLS 1.2 at least; `cert_file`/`key_file` presented when given."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


def make_client(settings: MqttSettings, identifier: str | None = None, **overrides: Any) -> aiomqtt.Client:
    """A v5 client with a large in-flight window: paho's default of 20 throttles fan-out.

    `tls_context=` in `overrides` replaces the settings' one (a per-VEN certificate).
    """
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
    if "tls_context" not in overrides:
        options["tls_context"] = tls_context(settings)
    client = aiomqtt.Client(**(options | overrides))
    client.pending_calls_threshold = 100_000
    return client
