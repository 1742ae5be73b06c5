"""Settings blocks each service composes into its own pydantic-settings class.

Names are plain environment variables (KAFKA_BOOTSTRAP_SERVERS, MQTT_URL, DATABASE_URL,
...) so one environment file configures every service; docs/configuration.md lists them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import AliasChoices, Field, PositiveInt, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dr_contracts.rules import ONLINE_MISSED_INTERVALS
from dr_contracts.topics import KafkaTopics, MqttTopics


class ServiceSettings(BaseSettings):
    """Common to every service: logging."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_json: bool | None = Field(default=None, description="JSON logs; default: when not a tty")


class FleetSettings(BaseSettings):
    """Rules every service reading the `vens` read model must apply alike (API, dispatcher)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    #: One setting, so the dispatcher commands exactly the VENs the API shows online.
    #: DISPATCHER_ONLINE_MISSED_INTERVALS is its former name, still read.
    ven_online_missed_intervals: float = Field(
        default=ONLINE_MISSED_INTERVALS,
        gt=0,
        validation_alias=AliasChoices("ven_online_missed_intervals", "dispatcher_online_missed_intervals"),
        description="a VEN is online while its last reading is at most this many report intervals old",
    )


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    #: Suffix for every topic name ('' in production); isolates tests and parallel stacks.
    topic_namespace: str = ""
    #: Group membership timing: short for local runs, 10000/3000 is Kafka's default.
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_linger_ms: int = 5
    kafka_max_batch_size: int = 262_144
    #: Partition counts by base topic name, e.g. `ven.telemetry=16,ven.acks=16` (the rest:
    #: dr_contracts.topics.DEFAULT_PARTITIONS); used when a service creates missing topics.
    kafka_topic_partitions: Annotated[dict[str, PositiveInt], NoDecode] = Field(default_factory=dict)
    kafka_replication_factor: int = Field(default=1, ge=1)

    @field_validator("kafka_topic_partitions", mode="before")
    @classmethod
    def _parse_partitions(cls, value: Any) -> Any:
        """`name=count,name=count` from the environment (a dict passes through)."""
        if not isinstance(value, str):
            return value
        pairs = [item.partition("=") for item in value.split(",") if item.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise ValueError(f"expected name=count,name=count, got {value!r}")
        return {name.strip(): count.strip() for name, _, count in pairs}

    @model_validator(mode="after")
    def _known_topics(self) -> KafkaSettings:
        self.topics.partitions(self.kafka_topic_partitions)  # unknown names fail at start
        return self

    @cached_property
    def topics(self) -> KafkaTopics:
        """Built once: fact_topic asks for it on every append (settings are frozen)."""
        return KafkaTopics(self.topic_namespace)

    @property
    def topic_partitions(self) -> dict[str, int]:
        """Concrete topic name -> partition count, overrides applied."""
        return self.topics.partitions(self.kafka_topic_partitions)


class MqttSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    #: `mqtt://host:port` (plain, 1883) or `mqtts://host:port` (TLS, 8883).
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: str | None = Field(default=None, repr=False)
    #: TLS (mqtts://): the CA that signed the broker's certificate (default: the system's).
    mqtt_ca_file: str | None = None
    #: TLS: this client's certificate and key; with the platform's broker its CN is the identity.
    mqtt_cert_file: str | None = None
    mqtt_key_file: str | None = None
    #: Prefix for every MQTT topic ('' in production, as in docs/contract.md).
    mqtt_topic_root: str = ""
    mqtt_max_inflight: int = 1000

    @property
    def mqtt_topics(self) -> MqttTopics:
        return MqttTopics(self.mqtt_topic_root)


class PostgresSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"


class TelemetryRetention(BaseSettings):
    """How long each telemetry resolution is kept: the projector drops whole partitions past
    it (ingest), and the API picks a resolution that still holds a window (docs/ingest.md)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    #: Days of raw readings kept (day partitions of ven_telemetry).
    telemetry_raw_days: int = Field(default=7, ge=1)
    #: Days of 1-minute rollups kept (day partitions of ven_telemetry_1m).
    telemetry_1m_days: int = Field(default=90, ge=1)
    #: Days of 15-minute rollups kept (month partitions of ven_telemetry_15m: a month goes
    #: once all of it is older).
    telemetry_15m_days: int = Field(default=1830, ge=1)
    #: How often a projector looks for partitions past their horizon (0: never).
    telemetry_retention_every_s: float = Field(default=3600.0, ge=0)

    @property
    def retention_days(self) -> dict[str, int]:
        """Table -> days kept."""
        return {
            "ven_telemetry": self.telemetry_raw_days,
            "ven_telemetry_1m": self.telemetry_1m_days,
            "ven_telemetry_15m": self.telemetry_15m_days,
        }
