"""Mosquitto MQTT broker (MQTT v5, v3.1.1) for tests and local runs.

The configuration is tuned for the platform's own clients: deep queues and no
in-flight limit (with defaults Mosquitto drops messages for a slow subscriber),
and persistence in the work dir so persistent sessions survive :meth:`restart`.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid
from pathlib import Path

from .errors import MOSQUITTO_MISSING, InfraError
from .ports import can_connect
from .process import ManagedProcess

_KNOWN_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


def find_mosquitto() -> Path:
    """Locate mosquitto: $DR_MOSQUITTO_BIN, $PATH, then the usual sbin directories."""
    candidates = [os.environ.get("DR_MOSQUITTO_BIN"), shutil.which("mosquitto"), *_KNOWN_PATHS]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise InfraError(MOSQUITTO_MISSING)


def mosquitto_config(port: int, host: str, persistence_dir: Path, extra: str = "") -> str:
    """The broker configuration used by :class:`Mosquitto`."""
    lines = [
        f"listener {port} {host}",
        "allow_anonymous true",
        "max_queued_messages 1000000",
        "max_inflight_messages 0",
        "persistence true",
        f"persistence_location {persistence_dir}/",
        "autosave_interval 1800",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "connection_messages true",
    ]
    if os.geteuid() == 0:
        # Otherwise mosquitto drops to user "mosquitto", which cannot use our temp dir.
        lines.append("user root")
    if extra:
        lines.append(extra.strip())
    return "\n".join(lines) + "\n"


def mqtt_connack(host: str, port: int, timeout: float = 5.0) -> None:
    """Connect with paho-mqtt (MQTT v5) and return once a successful CONNACK arrived."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"dr-infra-probe-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv5,
    )
    result: list[object] = []
    client.on_connect = lambda _c, _u, _f, reason_code, _p: result.append(reason_code)
    client.connect(host, port, keepalive=10)
    try:
        deadline = time.monotonic() + timeout
        while not result:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no CONNACK from {host}:{port} within {timeout:.1f}s")
            client.loop(timeout=0.05)
        reason = result[0]
        if getattr(reason, "is_failure", False):
            raise ConnectionError(f"MQTT broker {host}:{port} refused the connection: {reason}")
    finally:
        client.disconnect()
        client.loop(timeout=0.01)
        sock = client.socket()
        if sock is not None:
            sock.close()


class Mosquitto(ManagedProcess):
    """A Mosquitto broker on ``127.0.0.1:port`` with persistence in its work dir.

    >>> with Mosquitto() as mqtt:             # doctest: +SKIP
    ...     print(mqtt.url)                   # mqtt://127.0.0.1:40124
    """

    name = "mosquitto"
    stop_signal = signal.SIGTERM  # clean: saves the persistence file
    stop_timeout = 10.0

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        binary: str | Path | None = None,
        extra_config: str = "",
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(port, host=host, startup_timeout=startup_timeout)
        self._binary = Path(binary) if binary else None
        self.extra_config = extra_config

    @property
    def url(self) -> str:
        """``mqtt://host:port``."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "mosquitto.conf"

    @property
    def persistence_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    def _prepare(self) -> None:
        if self._binary is None:
            self._binary = find_mosquitto()
        self.persistence_dir.mkdir()

    def _command(self) -> list[str]:
        assert self._binary is not None
        self.config_path.write_text(
            mosquitto_config(self.port, self.host, self.persistence_dir, self.extra_config)
        )
        return [str(self._binary), "-c", str(self.config_path)]

    def _probe(self, timeout: float) -> None:
        if not can_connect(self.host, self.port, timeout=min(timeout, 0.5)):
            raise ConnectionRefusedError(f"{self.host}:{self.port} refuses connections")
        mqtt_connack(self.host, self.port, timeout)
