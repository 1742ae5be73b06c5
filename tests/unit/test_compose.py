"""deploy/compose.yaml is consistent with the code: real entry points, real settings."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

pytestmark = pytest.mark.unit
COMPOSE = Path(__file__).parents[2] / "deploy" / "compose.yaml"
#: Not platform services: the brokers, the database, and the one-shot PKI provisioning.
INFRA = {"kafka", "mosquitto", "postgres", "pki"}
#: The settings class each python module reads.
SETTINGS = {
    "api": "api.settings",
    "dispatcher": "dispatcher.settings",
    "ingest": "ingest.settings",
    "ven_sim": "ven_sim.settings",
}


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _platform_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in _compose()["services"].items() if name not in INFRA}


def _env_names(settings: type[BaseSettings]) -> set[str]:
    names = set()
    for name, info in settings.model_fields.items():
        alias = info.validation_alias
        if alias is None and settings.model_config.get("alias_generator") is not None:
            alias = settings.model_config["alias_generator"].validation_alias(name)  # type: ignore[union-attr]
        if isinstance(alias, AliasChoices):
            names |= {str(a).upper() for a in alias.choices}
        else:
            names.add(str(alias or name).upper())
    return names


def test_every_platform_service_runs_a_real_entry_point() -> None:
    for name, service in _platform_services().items():
        python, dash_m, module, *args = service["command"]
        assert (python, dash_m) == ("python", "-m"), name
        main = importlib.import_module(f"{module}.__main__")
        if module == "ingest":
            assert args[0] in main.COMMANDS, f"{name}: ingest has no command {args[0]!r}"
        else:
            assert callable(main.main)


def test_every_environment_variable_is_a_real_setting() -> None:
    for name, service in _platform_services().items():
        module = service["command"][2]
        settings = importlib.import_module(SETTINGS[module]).Settings
        unknown = set(service.get("environment", {})) - _env_names(settings)
        assert not unknown, f"{name}: {sorted(unknown)} are not settings of {module}"


def test_dependencies_exist_and_health_conditions_have_healthchecks() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dep, rule in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if rule.get("condition") == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}, which has no healthcheck"


def test_scaled_services_bind_no_fixed_host_port() -> None:
    services = _compose()["services"]
    for name in ("dispatcher", "ingest-bridge", "ingest-projector"):
        assert "ports" not in services[name] and "container_name" not in services[name]
    # The API is published from a range: each replica takes its own host port.
    assert "container_name" not in services["api"]
    assert all(re.fullmatch(r"\$\{\w+:-\d+-\d+\}:8000", port) for port in services["api"]["ports"])


def test_local_override_swaps_in_only_local_images() -> None:
    """deploy/compose.local.yaml (make compose-check) names only services of compose.yaml."""
    override = yaml.safe_load((COMPOSE.parent / "compose.local.yaml").read_text())["services"]
    assert set(override) <= set(_compose()["services"])
    assert {svc["image"] for svc in override.values() if "image" in svc} == {
        "dr-tansu:local",
        "dr-mosquitto:local",
        "dr-postgres:local",
    }


#: Where each python module keeps the Prometheus metrics its healthcheck reads.
METRICS = {
    "dispatcher": "dispatcher.service.metrics",
    "ingest": "ingest.metrics",
    "api": "api.openadr.metrics",
}


def test_readiness_healthchecks_read_a_gauge_the_service_sets() -> None:
    checked = set()
    for name, service in _platform_services().items():
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        if "/metrics" not in test:
            continue
        module = service["command"][2]
        gauge = re.search(r"b'(\w+) 1\.0'", test)
        assert gauge, f"{name}: a /metrics healthcheck must look for a gauge at 1"
        importlib.import_module(METRICS[module])
        assert gauge.group(1) in REGISTRY._names_to_collectors, f"{name}: no gauge {gauge.group(1)}"
        checked.add(name)
    assert checked == {"dispatcher", "ingest-bridge", "ingest-projector", "openadr-notifier"}


def test_docker_compose_accepts_the_file() -> None:
    """Schema validation by Compose itself (no engine needed): a hard requirement of the suite."""
    assert shutil.which("docker-compose"), (
        "docker-compose is not installed: `make test-tools` installs it (as root), "
        "or `sudo apt-get install docker-compose`"
    )
    env = os.environ | {"API_TOKENS": "a,b", "SIM_API_TOKEN": "b"}
    for files in ([COMPOSE], [COMPOSE, COMPOSE.parent / "compose.local.yaml"]):
        args = [arg for f in files for arg in ("-f", str(f))]
        done = subprocess.run(
            ["docker-compose", *args, "config", "--quiet"], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr


def test_the_pki_job_provisions_the_simulators_vens_and_every_mqtt_identity() -> None:
    """The `pki` service makes the certificates the others name, for the simulator's VEN count."""
    services = _compose()["services"]
    script = services["pki"]["command"][-1]
    assert "python -m dr_infra pki --dir /pki provision" in script
    assert services["pki"]["environment"]["VENS"] == services["ven-sim"]["environment"]["VEN_SIM_VENS"]
    named = {
        value
        for service in services.values()
        for key, value in (service.get("environment") or {}).items()
        if key in ("MQTT_CERT_FILE", "MQTT_KEY_FILE")
    }
    assert named == {
        f"/pki/clients/{identity}.{ext}"
        for identity in ("dispatcher", "ingest-bridge")
        for ext in ("crt", "key")
    }
    assert services["ven-sim"]["environment"]["VEN_SIM_GATEWAY_CERT_DIR"] == "/pki/clients"
