"""Mosquitto MQTT broker (MQTT v5, v3.1.1) for tests and local runs.

The configuration is tuned for the platform's own clients: deep queues and no
in-flight limit (with defaults Mosquitto drops messages for a slow subscriber),
and persistence in the work dir so persistent sessions survive :meth:`restart`.

With :class:`BrokerTls` the broker listens with TLS only, requires a client certificate
from the PKI (its CN is the username), checks the CRL and applies the platform's ACL
(dr_infra.mqtt_acl); a plain-text listener is added only when asked for (`plain=True`).
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from dr_contracts.topics import MqttTopics
from dr_runtime.mqtt import client_tls

from .broker_plugin import plugin_path
from .errors import MOSQUITTO_MISSING, InfraError
from .mqtt_acl import render_acl
from .pki import Pki
from .ports import can_connect, free_port
from .process import ManagedProcess

#: The identity dr_infra's readiness probe connects as (a service the ACL grants nothing).
PROBE_IDENTITY = "dr-infra-probe"

_KNOWN_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


def find_mosquitto() -> Path:
    """Locate mosquitto: $DR_MOSQUITTO_BIN, $PATH, then the usual sbin directories."""
    candidates = [os.environ.get("DR_MOSQUITTO_BIN"), shutil.which("mosquitto"), *_KNOWN_PATHS]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise InfraError(MOSQUITTO_MISSING)


@dataclass(frozen=True)
class BrokerTls:
    """TLS and client certificates from the PKI in `pki_dir`, the ACL from its gateways."""

    pki_dir: Path
    #: MQTT topic roots the ACL covers ("" in production; "+/" for the tests' roots).
    roots: tuple[str, ...] = ("",)
    #: Names and addresses in the server certificate (clients verify the host name).
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    #: The dr_legacy_stamp plugin as the broker sees it (default: built here, dr_infra.broker_plugin).
    plugin: str | None = None
    #: Also a TLS listener without client certificates, for sites that cannot hold one: each
    #: identity's password from the PKI's `passwords` file (`python -m dr_infra pki password`).
    passwords: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "pki_dir", Path(self.pki_dir).resolve())  # Mosquitto runs elsewhere

    @property
    def pki(self) -> Pki:
        return Pki(self.pki_dir)

    def provision(self) -> None:
        """The CA, the broker's certificate and the probe's identity, where missing."""
        pki = self.pki
        pki.init()
        if not (self.pki_dir / "server.crt").exists():
            pki.server(list(self.hosts))
        pki.ensure_client(PROBE_IDENTITY, "service")
        if self.passwords:
            pki.password_file.touch(mode=0o600, exist_ok=True)

    def write_acl(self, path: Path) -> None:
        path.write_text(render_acl(self.pki.gateways(), self.roots))

    def config(
        self,
        port: int,
        host: str,
        acl_path: Path,
        password_port: int | None = None,
        *,
        per_listener: bool = False,
    ) -> list[str]:
        """The TLS listener (a certificate required, its CN the username), the password fallback
        on `password_port`, and their security: the ACL, and the legacy topic stamped with its
        publisher. `per_listener`: the security lines after each listener, for a broker that
        also has a plain-text one (`per_listener_settings true`, measured to double the time of a
        10k fan-out, docs/security.md); else once, for every listener."""
        pki = self.pki_dir
        listeners = [
            [
                f"listener {port} {host}",
                f"cafile {self.pki.ca_file}",
                f"certfile {pki / 'server.crt'}",
                f"keyfile {pki / 'server.key'}",
                f"crlfile {pki / 'crl.pem'}",
                "require_certificate true",
                "use_identity_as_username true",
            ]
        ]
        if password_port is not None:
            listeners.append(
                [
                    f"listener {password_port} {host}",
                    f"certfile {pki / 'server.crt'}",
                    f"keyfile {pki / 'server.key'}",
                ]
            )
        security = [
            "allow_anonymous false",
            f"acl_file {acl_path}",
            f"plugin {self.plugin or plugin_path()}",
            f"plugin_opt_legacy_topic {MqttTopics().metering}",
            *([f"password_file {self.pki.password_file}"] if self.passwords else []),
        ]
        if per_listener:
            return [line for listener in listeners for line in (*listener, *security)]
        return [line for listener in listeners for line in listener] + security

    def client_context(self, identity: str) -> ssl.SSLContext:
        """A client's TLS context: the CA, and `identity`'s certificate from the PKI."""
        cert, key = self.pki.client_files(identity)
        return client_tls(str(self.pki.ca_file), str(cert), str(key))

    def client_env(self, identity: str) -> dict[str, str]:
        """MQTT_* settings of a service connecting as `identity`."""
        cert, key = self.pki.client_files(identity)
        return {"MQTT_CA_FILE": str(self.pki.ca_file), "MQTT_CERT_FILE": str(cert), "MQTT_KEY_FILE": str(key)}


def mosquitto_config(
    port: int,
    host: str,
    persistence_dir: Path,
    extra: str = "",
    *,
    tls: BrokerTls | None = None,
    acl_path: Path | None = None,
    plain_port: int | None = None,
    password_port: int | None = None,
) -> str:
    """The broker configuration used by :class:`Mosquitto`: plain on `port`, or TLS on
    `port` (with `acl_path`), plain on `plain_port` and TLS with passwords on `password_port`
    when given."""
    if tls is None:
        lines = [f"listener {port} {host}", "allow_anonymous true"]
    elif plain_port is None:
        assert acl_path is not None
        lines = tls.config(port, host, acl_path, password_port)
    else:  # anonymous on the plain-text listener only: each listener its own authentication
        assert acl_path is not None
        lines = ["per_listener_settings true", f"listener {plain_port} {host}", "allow_anonymous true"]
        lines += tls.config(port, host, acl_path, password_port, per_listener=True)
    lines += [
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


def mqtt_connack(host: str, port: int, timeout: float = 5.0, tls: ssl.SSLContext | None = None) -> None:
    """Connect with paho-mqtt (MQTT v5; TLS with `tls`) and return once a successful CONNACK arrived."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"dr-infra-probe-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv5,
    )
    if tls is not None:
        client.tls_set_context(tls)
    result: list[object] = []
    client.on_connect = lambda _c, _u, _f, reason_code, _p: result.append(reason_code)
    client.connect(host, port, keepalive=10)
    try:
        deadline = time.monotonic() + timeout
        while not result:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no CONNACK from {host}:{port} within {timeout:.1f}s")
            if (code := client.loop(timeout=0.05)) != mqtt.MQTT_ERR_SUCCESS:
                why = mqtt.error_string(code)
                raise ConnectionError(f"MQTT broker {host}:{port} closed the connection ({why})")
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
        tls: BrokerTls | None = None,
        plain: bool = False,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(port, host=host, startup_timeout=startup_timeout)
        self._binary = Path(binary) if binary else None
        self.extra_config = extra_config
        self.tls = tls
        #: The plain-text listener's port: the only listener without TLS, else only if asked for.
        self.plain_port = None if tls is None else (free_port() if plain else None)
        #: The password fallback's TLS port (BrokerTls.passwords).
        self.password_port = free_port() if tls is not None and tls.passwords else None

    @property
    def url(self) -> str:
        """``mqtt://host:port``, or ``mqtts://host:port`` with TLS."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def plain_url(self) -> str:
        """``mqtt://host:port`` of the plain-text listener (an error when there is none)."""
        if self.tls is None:
            return self.url
        if self.plain_port is None:
            raise InfraError("this Mosquitto has no plain-text listener (Mosquitto(plain=True))")
        return f"mqtt://{self.host}:{self.plain_port}"

    @property
    def password_url(self) -> str:
        """``mqtts://host:port`` of the password fallback listener."""
        if self.password_port is None:
            raise InfraError("this Mosquitto has no password listener (BrokerTls(passwords=True))")
        return f"mqtts://{self.host}:{self.password_port}"

    @property
    def acl_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "acl"

    def reload(self, timeout: float = 10.0) -> None:
        """Apply the PKI's current gateways (the ACL) and CRL: SIGHUP, and wait until Mosquitto
        has reloaded (it logs it, then finishes the reload before it reads any client again)."""
        if self.tls is not None:
            self.tls.write_acl(self.acl_path)
        if self.pid is None:
            return
        offset = self.log_path.stat().st_size
        os.kill(self.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while not self._logged_since(offset, b"Reloading config."):
            if time.monotonic() >= deadline:
                raise InfraError(f"mosquitto did not reload within {timeout:.0f}s:\n{self.log_tail(10)}")
            time.sleep(0.02)

    def _logged_since(self, offset: int, line: bytes) -> bool:
        """Whether the log holds `line` past `offset` (only what it gained is read)."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return line in log.read()

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
        if self.tls is not None:
            self.tls.provision()

    def _command(self) -> list[str]:
        assert self._binary is not None
        if self.tls is not None:
            self.tls.write_acl(self.acl_path)
        config = mosquitto_config(
            self.port,
            self.host,
            self.persistence_dir,
            self.extra_config,
            tls=self.tls,
            acl_path=self.acl_path,
            plain_port=self.plain_port,
            password_port=self.password_port,
        )
        self.config_path.write_text(config)
        return [str(self._binary), "-c", str(self.config_path)]

    def _probe(self, timeout: float) -> None:
        if not can_connect(self.host, self.port, timeout=min(timeout, 0.5)):
            raise ConnectionRefusedError(f"{self.host}:{self.port} refuses connections")
        tls = None if self.tls is None else self.tls.client_context(PROBE_IDENTITY)
        mqtt_connack(self.host, self.port, timeout, tls=tls)
