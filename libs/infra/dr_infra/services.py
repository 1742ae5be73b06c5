"""The platform's own services as supervised child processes (for `make run` and e2e tests).

Each service runs as `python -m <package> ...` with its settings in the environment,
logs to `<log_dir>/<name>.log` (kept after it stops), and counts as started only once
it answers a readiness probe (an HTTP endpoint, or a log line saying it is ready).
Like the brokers, services die with the runner and never outlive it.
"""

from __future__ import annotations

import os
import signal
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .process import ManagedProcess

Probe = Callable[["ServiceProcess", float], None]


def http_probe(path: str) -> Probe:
    """Ready when GET http://host:port{path} answers 200."""

    def probe(service: ServiceProcess, timeout: float) -> None:
        url = f"http://{service.host}:{service.port}{path}"
        with urllib.request.urlopen(url, timeout=min(timeout, 2.0)) as response:
            if response.status != 200:
                raise ConnectionError(f"{url} answered {response.status}")

    return probe


def log_probe(marker: str) -> Probe:
    """Ready when the service's log contains `marker` (e.g. its structured 'started' event)."""

    def probe(service: ServiceProcess, timeout: float) -> None:
        with service.log_path.open("rb") as log:
            log.seek(service.log_start)
            text = log.read().decode(errors="replace")
        if marker not in text:
            raise ConnectionError(f"{service.name} has not logged {marker!r} yet")

    return probe


class ServiceProcess(ManagedProcess):
    """One service process; `port` is the HTTP port it serves, if any."""

    stop_signal = signal.SIGTERM
    stop_timeout = 15.0
    probe_interval = 0.1

    def __init__(
        self,
        name: str,
        module_args: list[str],
        env: dict[str, str],
        *,
        probe: Probe,
        log_dir: Path | None = None,
        port: int | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(port, startup_timeout=startup_timeout)
        self.name = name  # type: ignore[misc]  # instance name: one class, many services
        self.module_args = module_args
        self.env = env
        self.log_dir = log_dir
        self._probe_fn = probe
        #: Where this run's output starts in the log (a restart appends to it).
        self.log_start = 0

    @property
    def log_path(self) -> Path:
        """`<log_dir>/<name>.log`, kept after a stop; without a log_dir, in the work dir."""
        return super().log_path if self.log_dir is None else self.log_dir / f"{self.name}.log"

    def _prepare(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("")  # a fresh log per run, so probes read only this run

    def _launch(self) -> None:
        self.log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        super()._launch()

    def _command(self) -> list[str]:
        return [sys.executable, "-m", *self.module_args]

    def full_env(self) -> dict[str, str]:
        """The process environment: ours, with JSON logs, overlaid by the service's settings."""
        return dict(os.environ) | {"LOG_JSON": "true"} | self.env

    def _popen_kwargs(self) -> dict[str, Any]:
        return {"env": self.full_env()}

    def _probe(self, timeout: float) -> None:
        self._probe_fn(self, timeout)
