"""The whole platform as processes: projector, bridge, dispatcher, api (with, when webhooks may
go somewhere, OADR_WEBHOOK_HOSTS, the OpenADR notifier) and ven-sim.

Used by `make run` (dr_infra.run) and by the end-to-end tests, so both exercise the
same wiring: every service is its own `python -m ...` process configured only through
the environment, exactly as in production.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Self

from .errors import InfraError
from .identities import SIM_GATEWAY, parse_sim_args, provision
from .mosquitto import Mosquitto
from .ports import free_port
from .services import ServiceProcess, http_probe, log_probe

#: Start order: readers of the log first, so nothing produced is waiting for them.
SERVICES = ("projector", "bridge", "dispatcher", "api", "notifier", "ven-sim")


class Platform:
    """Supervises one process per service against the brokers and database in `env`."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        log_dir: Path,
        api_port: int | None = None,
        vens: int = 0,
        sim_args: list[str] | None = None,
        broker: Mosquitto | None = None,
        sim_gateway: str = SIM_GATEWAY,
        startup_timeout: float = 90.0,
    ) -> None:
        """With a TLS `broker`, each service connects with its own identity (dr_infra.identities),
        and the simulator as the gateway `sim_gateway` for its VENs."""
        self.env = dict(env)
        self.log_dir = log_dir
        self.api_port = api_port or free_port()
        self.sim_port = free_port()
        self.vens = vens
        self.startup_timeout = startup_timeout
        sim = ["ven_sim", "--vens", str(vens), "--status-port", str(self.sim_port)]
        sim += ["--register", "--api-url", self.api_url, *(sim_args or [])]
        self.identities: dict[str, dict[str, str]] = {}
        if broker is not None and broker.tls is not None:
            self.identities = provision(broker.tls, parse_sim_args(sim[1:]) if vens else None, sim_gateway)
            broker.reload()
        self.services: dict[str, ServiceProcess] = {
            "projector": self._service("projector", ["ingest", "projector"], '"projection.assigned"'),
            "bridge": self._service("bridge", ["ingest", "bridge"], '"bridge.subscribed"'),
            "dispatcher": self._service("dispatcher", ["dispatcher"], '"dispatcher.ready"'),
            "api": self._service("api", ["api"], "/ready", port=self.api_port),
        }
        if self.env.get("OADR_WEBHOOK_HOSTS"):
            self.services["notifier"] = self._service("notifier", ["api", "notifier"], '"notifier.assigned"')
        if vens:
            self.services["ven-sim"] = self._service("ven-sim", sim, "/health", port=self.sim_port)

    def _service(self, name: str, args: list[str], ready: str, port: int | None = None) -> ServiceProcess:
        """A service ready on an HTTP path (`/...`) when it has a port, else on a log marker."""
        probe = http_probe(ready) if port else log_probe(ready)
        env = self.env | self.identities.get(name, {}) | (self._api_env(port) if name == "api" else {})
        return ServiceProcess(
            name,
            args,
            env,
            log_dir=self.log_dir,
            probe=probe,
            port=port,
            startup_timeout=self.startup_timeout,
        )

    def _api_env(self, port: int | None) -> dict[str, str]:
        """The API's port, and the simulator's site pages for the dashboard to link to."""
        site = {"DASHBOARD_SITE_PAGE_URL": f"{self.sim_url}/site/{{venId}}"} if self.vens else {}
        return {"API_PORT": str(port)} | site

    @property
    def dashboard_url(self) -> str:
        return f"{self.api_url}/dashboard/"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    def migrate(self) -> None:
        """Apply the read-model migrations once, before any service needs the tables."""
        done = subprocess.run(
            [sys.executable, "-m", "ingest", "migrate"],
            env=self.services["api"].full_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise InfraError(f"migrations failed:\n{done.stderr[-2000:]}")

    def start(self, *names: str) -> Self:
        """Start the named services (default: all, in dependency order), each until ready."""
        for name in names or tuple(n for n in SERVICES if n in self.services):
            self.services[name].start()
        return self

    def stop(self) -> None:
        """Stop every service, last started first."""
        for service in reversed(list(self.services.values())):
            service.stop()

    def __enter__(self) -> Self:
        try:
            self.migrate()
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
