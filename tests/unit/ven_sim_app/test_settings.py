"""Settings: VEN_SIM_* environment names, field names in code, CLI flags over the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ven_sim.cli import parse_settings
from ven_sim.settings import Settings

pytestmark = pytest.mark.unit


def test_own_fields_read_prefixed_env_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEN_SIM_VENS", "42")
    monkeypatch.setenv("MODE", "per-ven")  # a generic name must not leak in
    monkeypatch.setenv("MQTT_TOPIC_ROOT", "x/")
    settings = Settings()
    assert settings.vens == 42 and settings.mode == "multiplexed" and settings.mqtt_topic_root == "x/"


def test_fields_by_name_in_code_and_typos_refused() -> None:
    assert Settings(vens=3, ack_shape="mix").vens == 3
    with pytest.raises(ValidationError):
        Settings(venz=3)
    with pytest.raises(ValidationError):
        Settings(ack_delay_ms="soon")
    with pytest.raises(ValidationError):
        Settings(prefix="ven/")


def test_ven_ids() -> None:
    assert Settings(vens=3).ven_ids == ["ven-001", "ven-002", "ven-003"]
    assert Settings(vens=2, prefix="site-", first_index=999).ven_ids == ["site-999", "site-1000"]


def test_cli_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEN_SIM_VENS", "42")
    monkeypatch.setenv("VEN_SIM_SEED", "9")
    settings = parse_settings(
        [
            "--vens",
            "1000",
            "--prefix",
            "ven-",
            "--interval",
            "2.5",
            "--register",
            "--mode",
            "per-ven",
            "--mqtt-url",
            "mqtt://h:1884",
            "--ack-delay-ms",
            "10,20",
        ]
    )
    assert (settings.vens, settings.seed, settings.interval_s, settings.register_vens, settings.mode) == (
        1000,
        9,
        2.5,
        True,
        "per-ven",
    )
    assert settings.mqtt_url == "mqtt://h:1884" and settings.ack_delay_ms == "10,20"


@pytest.mark.parametrize("argv", [["--vens", "many"], ["--mode", "both"], ["--reject-rate", "2"]])
def test_bad_flags_exit_with_usage(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_settings(argv)
    assert exc.value.code == 2
