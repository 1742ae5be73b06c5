"""Command line -> Settings: a flag per setting, defaults from the environment (VEN_SIM_*)."""

from __future__ import annotations

import argparse
import typing
from collections.abc import Sequence

from pydantic import ValidationError

from ven_sim.settings import Settings, env_name

#: Shared settings worth a flag too; every simulator field gets one.
SHARED_FLAGS = (
    "mqtt_url",
    "mqtt_username",
    "mqtt_password",
    "mqtt_ca_file",
    "mqtt_cert_file",
    "mqtt_key_file",
    "mqtt_topic_root",
    "log_level",
)
#: Short spellings (`--interval 5`).
ALIASES = {"interval_s": ("--interval",), "register_vens": ("--register",)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ven_sim",
        description="Simulated VENs over MQTT (docs/contract.md): telemetry, acks, fault injection.",
    )
    for name, field in Settings.model_fields.items():
        if env_name(name) == name and name not in SHARED_FLAGS:
            continue  # a shared setting without a flag: environment only
        flags = [*ALIASES.get(name, ()), f"--{name.replace('_', '-')}"]
        shown = "(secret)" if field.repr is False else repr(field.default)
        help_text = f"{field.description or name} [env {env_name(name).upper()}; default {shown}]"
        if field.annotation is bool:
            parser.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, help=help_text)
            continue
        choices = (
            typing.get_args(field.annotation)
            if typing.get_origin(field.annotation) is typing.Literal
            else None
        )
        parser.add_argument(*flags, dest=name, choices=choices, help=help_text)
    return parser


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    """Flags given on the command line override the environment; pydantic checks the values."""
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    try:
        return Settings(**overrides)
    except ValidationError as err:
        parser.error(str(err))
        raise  # parser.error exits; this keeps type checkers calm
