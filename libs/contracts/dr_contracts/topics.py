"""Kafka topic names and MQTT topic patterns: the one place they are spelled.

Kafka names take an optional namespace suffix so that tests (and parallel
environments sharing a broker) get isolated topics without changing code.
MQTT topics take an optional root prefix for the same reason; in production
both are empty and the names are exactly those of docs/contract.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DR_EVENTS = "dr.events"
VEN_REGISTRY = "ven.registry"
DR_COMMANDS = "dr.commands"
VEN_ACKS = "ven.acks"
VEN_TELEMETRY = "ven.telemetry"
INGEST_REJECTED = "ingest.rejected"
OADR_OBJECTS = "oadr.objects"

#: Default partition counts; each can be overridden by settings (docs/configuration.md).
DEFAULT_PARTITIONS: dict[str, int] = {
    DR_EVENTS: 4,
    VEN_REGISTRY: 4,
    DR_COMMANDS: 8,
    VEN_ACKS: 8,
    VEN_TELEMETRY: 8,
    INGEST_REJECTED: 1,
    OADR_OBJECTS: 2,
}

#: Largest MQTT payload the contract allows.
MAX_PAYLOAD_BYTES = 128 * 1024


@dataclass(frozen=True)
class KafkaTopics:
    """Concrete topic names for one namespace ('' in production)."""

    namespace: str = ""

    def of(self, base: str) -> str:
        """The concrete name of the topic `base` (a name of DEFAULT_PARTITIONS)."""
        return f"{base}.{self.namespace}" if self.namespace else base

    @property
    def dr_events(self) -> str:
        return self.of(DR_EVENTS)

    @property
    def ven_registry(self) -> str:
        return self.of(VEN_REGISTRY)

    @property
    def dr_commands(self) -> str:
        return self.of(DR_COMMANDS)

    @property
    def ven_acks(self) -> str:
        return self.of(VEN_ACKS)

    @property
    def ven_telemetry(self) -> str:
        return self.of(VEN_TELEMETRY)

    @property
    def ingest_rejected(self) -> str:
        return self.of(INGEST_REJECTED)

    @property
    def oadr_objects(self) -> str:
        return self.of(OADR_OBJECTS)

    def all(self) -> dict[str, str]:
        """Base name -> concrete name, for every topic."""
        return {base: self.of(base) for base in DEFAULT_PARTITIONS}

    def partitions(self, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
        """Concrete name -> partition count for every topic; `overrides` by base name."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(DEFAULT_PARTITIONS)
        if unknown:
            raise ValueError(f"unknown topics {sorted(unknown)}: known are {sorted(DEFAULT_PARTITIONS)}")
        return {self.of(base): overrides.get(base, n) for base, n in DEFAULT_PARTITIONS.items()}


@dataclass(frozen=True)
class MqttTopics:
    """MQTT topics of docs/contract.md §1, under an optional root prefix."""

    root: str = ""

    def cmd(self, ven_id: str) -> str:
        return f"{self.root}ven/cmd/{ven_id}"

    def ack(self, ven_id: str) -> str:
        return f"{self.root}ven/ack/{ven_id}"

    @property
    def metering(self) -> str:
        return f"{self.root}volttron/metering"

    def metering_from(self, gateway: str) -> str:
        """The legacy topic as the broker re-routes it, naming the gateway that published
        (the dr_legacy_stamp plugin, docs/security.md); nobody may publish here directly."""
        return f"{self.metering}/{gateway}"

    def oadr_meter(self, ven_id: str) -> str:
        return f"{self.root}oadr/meter/{ven_id}"

    def telemetry(self, ven_id: str) -> str:
        return f"{self.root}ven/telemetry/{ven_id}"

    def bridge_drain(self, client_id: str) -> str:
        """A bridge replica's private topic for its leave marker (services/ingest)."""
        return f"{self.root}ingest/bridge/{client_id}/drain"

    @property
    def all_cmds(self) -> str:
        return f"{self.root}ven/cmd/+"

    def ingest_filters(self) -> list[str]:
        """Every VEN -> platform topic filter the ingest bridge subscribes to."""
        r = self.root
        return [
            f"{r}ven/ack/+",
            f"{r}volttron/metering",
            self.metering_from("+"),
            f"{r}oadr/meter/+",
            f"{r}ven/telemetry/+",
        ]

    def classify(self, topic: str) -> tuple[str, str | None]:
        """Return (kind, name from topic) where kind is ack|metering|oadr|telemetry|cmd|other,
        the name a venId, or for `gateway_metering` the gateway that published."""
        if self.root and not topic.startswith(self.root):
            return "other", None
        rest = topic[len(self.root) :]
        parts = rest.split("/")
        if rest == "volttron/metering":
            return "metering", None
        if len(parts) == 3 and parts[:2] == ["volttron", "metering"] and parts[2]:
            return "gateway_metering", parts[2]
        if len(parts) == 3 and parts[2]:
            kinds = {
                ("ven", "ack"): "ack",
                ("oadr", "meter"): "oadr",
                ("ven", "telemetry"): "telemetry",
                ("ven", "cmd"): "cmd",
            }
            kind = kinds.get((parts[0], parts[1]))
            if kind:
                return kind, parts[2]
        return "other", None
