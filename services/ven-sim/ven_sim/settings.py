"""Simulator settings: the shared logging and MQTT blocks plus its own `VEN_SIM_*` knobs.

The simulator's own fields read `VEN_SIM_<FIELD>` from the environment (`VEN_SIM_VENS`,
`VEN_SIM_ACK_SHAPE`, ...) so that generic names such as MODE or PREFIX never leak in;
the shared blocks keep their plain names (MQTT_URL, MQTT_TOPIC_ROOT, LOG_LEVEL, ...).
In code the fields are passed by name: `Settings(vens=10, mode="per-ven")`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasGenerator, Field, field_validator
from pydantic_settings import SettingsConfigDict

from dr_runtime.settings import MqttSettings, ServiceSettings
from ven_sim.faults import parse_delay

ENV_PREFIX = "VEN_SIM_"
_SHARED = frozenset({*ServiceSettings.model_fields, *MqttSettings.model_fields})
Mode = Literal["multiplexed", "per-ven"]
AckShapeSetting = Literal["A", "B", "C", "mix"]
PerVenTopics = Literal["none", "oadr", "telemetry", "both"]


def env_name(field: str) -> str:
    """The environment name (and validation alias) of a field."""
    return field if field in _SHARED else f"{ENV_PREFIX}{field.upper()}"


class Settings(ServiceSettings, MqttSettings):
    """Everything one simulator process needs; nothing here connects."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, alias_generator=AliasGenerator(validation_alias=env_name)
    )

    vens: int = Field(10, description="number of simulated VENs", ge=0, le=1_000_000)
    prefix: str = Field(
        "ven-",
        description="venId prefix: ids are <prefix><index>, the index zero-padded to 3 digits",
        pattern=r"^([A-Za-z0-9][A-Za-z0-9_.:\-]{0,99})?$",
    )
    first_index: int = Field(
        1, description="index of the first VEN (to split a fleet across processes)", ge=0
    )
    interval_s: float = Field(5.0, description="telemetry interval (s); per-VEN phase jitter within it", gt=0)
    seed: int = Field(7, description="seed of panels, load shapes, jitter and faults")
    mode: Mode = Field("multiplexed", description="multiplexed: a few shared connections; per-ven: one each")
    connections: int = Field(
        2, description="MQTT connections in multiplexed mode (VENs are partitioned)", ge=1
    )
    ack_shape: AckShapeSetting = Field("A", description="ack shape of docs/contract.md §3, or mix per VEN")
    per_ven_topics: PerVenTopics = Field("none", description="also publish each reading on per-VEN topics")
    telemetry_qos: int = Field(1, description="QoS of telemetry (acks are always QoS 1)", ge=0, le=1)
    ven_password: str | None = Field(
        None, description="per-ven mode: password, `{venId}` is replaced", repr=False
    )
    ven_cert_dir: str | None = Field(
        None, description="per-ven mode over TLS: each VEN's certificate, <dir>/<venId>.crt and .key"
    )
    gateway: str = Field(
        "ven-sim", description="multiplexed mode: link i is the gateway identity <gateway>-<i>"
    )
    gateway_cert_dir: str | None = Field(
        None, description="multiplexed mode over TLS: link i's certificate, <dir>/<gateway>-<i>.crt and .key"
    )

    offline_fraction: float = Field(0.0, description="share of VENs that never connect", ge=0, le=1)
    ack_drop_rate: float = Field(0.0, description="share of acks never published", ge=0, le=1)
    ack_delay_ms: str = Field("0", description="ack delay: `ms`, `min,max` (uniform) or `exp:mean`")
    reject_rate: float = Field(0.0, description="share of valid commands answered `rejected`", ge=0, le=1)
    malformed_rate: float = Field(
        0.0, description="share of telemetry replaced by a malformed payload", ge=0, le=1
    )

    register_vens: bool = Field(False, description="register every VEN through the REST API before telemetry")
    api_url: str = Field("http://127.0.0.1:8000", description="REST API base URL for registration")
    api_token: str | None = Field(None, description="bearer token for the REST API", repr=False)
    register_concurrency: int = Field(20, description="parallel registration requests", ge=1)

    status_port: int = Field(0, description="HTTP status surface port (0: off)", ge=0, le=65535)
    status_host: str = Field("127.0.0.1", description="HTTP status surface address")
    status_file: str | None = Field(None, description="JSON status file rewritten every second")
    log_every_s: float = Field(10.0, description="period of the counters log line", gt=0)

    def __init__(self, **values: Any) -> None:
        """Accept field names for the simulator's own fields (their aliases are env names)."""
        super().__init__(**{env_name(k): v for k, v in values.items()})

    @field_validator("ack_delay_ms")
    @classmethod
    def _delay_spec(cls, value: str) -> str:
        parse_delay(value)
        return value

    @property
    def ven_ids(self) -> list[str]:
        """The venIds this process simulates, in index order."""
        return [f"{self.prefix}{i:03d}" for i in range(self.first_index, self.first_index + self.vens)]

    def link_shares(self) -> list[list[str]]:
        """Multiplexed mode: the venIds each MQTT link speaks for (every `connections`-th VEN).

        Over TLS each link is its own gateway identity, `<gateway>-<i>`, whose ACL names exactly
        its share (dr_infra.identities): Mosquitto checks a message against a gateway's entries
        one by one, so several small gateways cost it less than one large one (docs/security.md).
        """
        ids = self.ven_ids
        return [ids[i :: self.connections] for i in range(min(self.connections, len(ids)))]
