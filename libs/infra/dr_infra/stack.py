"""LocalStack: Tansu (Kafka protocol), Mosquitto (MQTT) and PostgreSQL side by side."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, Self

from .errors import InfraError
from .mosquitto import BrokerTls, Mosquitto
from .postgres import Postgres
from .process import ManagedProcess, install_sigterm_handler
from .tansu import TansuBroker

Part = Literal["kafka", "mqtt", "postgres"]
PARTS: tuple[Part, ...] = ("kafka", "mqtt", "postgres")


class LocalStack:
    """The platform's infrastructure as local processes on free (or given) ports.

    ``start()`` starts the enabled parts in parallel; ``start("postgres")`` starts
    only that part (on demand, idempotent), so a caller can bring parts up lazily.
    ``stop()`` stops everything in reverse order and removes every temp dir.

    >>> with LocalStack() as stack:                    # doctest: +SKIP
    ...     stack.kafka_bootstrap, stack.mqtt_url, stack.pg_dsn
    """

    def __init__(
        self,
        *,
        kafka: bool = True,
        mqtt: bool = True,
        postgres: bool = True,
        kafka_port: int | None = None,
        mqtt_port: int | None = None,
        pg_port: int | None = None,
        mqtt_tls: BrokerTls | None = None,
        mqtt_plain: bool = False,
        startup_timeout: float = 60.0,
    ) -> None:
        """`mqtt_tls`: Mosquitto with TLS, client certificates and ACLs on `mqtt_port`, and a
        plain-text listener too only with `mqtt_plain`."""
        self.kafka = TansuBroker(kafka_port, startup_timeout=startup_timeout) if kafka else None
        self.mqtt = (
            Mosquitto(mqtt_port, tls=mqtt_tls, plain=mqtt_plain, startup_timeout=startup_timeout)
            if mqtt
            else None
        )
        self.postgres = Postgres(pg_port, startup_timeout=startup_timeout) if postgres else None
        self._lock = threading.Lock()

    def components(self) -> dict[Part, ManagedProcess]:
        """The enabled parts, in start order."""
        found: dict[Part, ManagedProcess | None] = {
            "kafka": self.kafka,
            "mqtt": self.mqtt,
            "postgres": self.postgres,
        }
        return {part: c for part, c in found.items() if c is not None}

    def start(self, *parts: Part) -> Self:
        """Start ``parts`` (default: every enabled part) in parallel; wait until all answer.

        If one fails, the others started by this call are stopped and the first
        error is raised.
        """
        enabled = self.components()
        for part in parts:
            if part not in enabled:
                raise InfraError(f"{part} is not enabled in this LocalStack")
        wanted = [enabled[p] for p in (parts or tuple(enabled))]
        install_sigterm_handler()  # components started in worker threads cannot
        with self._lock:
            todo = [c for c in wanted if not c.running]
            if len(todo) == 1:
                todo[0].start()
            elif todo:
                self._start_parallel(todo)
        return self

    def _start_parallel(self, todo: Iterable[ManagedProcess]) -> None:
        todo = list(todo)
        with ThreadPoolExecutor(len(todo), thread_name_prefix="dr-infra-start") as pool:
            futures = [pool.submit(c.start) for c in todo]
            try:
                errors = [f.exception() for f in futures]
            except BaseException:  # e.g. Ctrl-C while waiting: make the starts give up
                for c in todo:
                    c.cancel_start()
                for c in todo:
                    # start() holds the component's lock: stop() waits for it to give up.
                    c.stop()
                raise
        failed = [e for e in errors if e is not None]
        if failed:
            for c in reversed(todo):
                c.stop()
            raise failed[0]

    def stop(self) -> None:
        """Stop every part in reverse start order (each is stopped even if one fails)."""
        first_error: BaseException | None = None
        for component in reversed(list(self.components().values())):
            try:
                component.stop()
            except BaseException as exc:
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    def _running(self, part: Part) -> ManagedProcess:
        component = self.components().get(part)
        if component is None or not component.running:
            raise InfraError(f"{part} is not running: start it with LocalStack.start({part!r})")
        return component

    @property
    def kafka_bootstrap(self) -> str:
        """``127.0.0.1:PORT`` of the Kafka-protocol broker."""
        broker = self._running("kafka")
        assert isinstance(broker, TansuBroker)
        return broker.bootstrap

    @property
    def mqtt_url(self) -> str:
        """``mqtt://127.0.0.1:PORT``, or ``mqtts://`` with TLS."""
        return self.mosquitto.url

    @property
    def mosquitto(self) -> Mosquitto:
        """The running Mosquitto."""
        broker = self._running("mqtt")
        assert isinstance(broker, Mosquitto)
        return broker

    @property
    def pg_dsn(self) -> str:
        """Server/admin DSN ``postgresql://postgres@127.0.0.1:PORT/postgres``."""
        server = self._running("postgres")
        assert isinstance(server, Postgres)
        return server.dsn

    def env(self) -> dict[str, str]:
        """Environment variables for the services, for the running parts."""
        env: dict[str, str] = {}
        if self.kafka is not None and self.kafka.running:
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.kafka.bootstrap
        if self.mqtt is not None and self.mqtt.running:
            env["MQTT_URL"] = self.mqtt.url
            if self.mqtt.tls is not None:
                env["MQTT_CA_FILE"] = str(self.mqtt.tls.pki.ca_file)
        if self.postgres is not None and self.postgres.running:
            env["DATABASE_URL"] = self.postgres.dsn
        return env

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LocalStack {list(self.components().values())}>"
