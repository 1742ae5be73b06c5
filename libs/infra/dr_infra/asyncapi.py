"""docs/asyncapi.yaml: one AsyncAPI 3.0 document for the platform, generated from the code that runs.

    python -m dr_infra asyncapi            # (re)write docs/asyncapi.yaml
    python -m dr_infra asyncapi --check    # exit 1 when the committed file is stale
    python -m dr_infra asyncapi --site docs/site   # also write the offline viewer page

How: one FastStream KafkaBroker and one MQTTBroker, never started. Each service declares its
Kafka publishers and subscribers on the Kafka broker through its own `<package>/channels.py`
(the function its bootstrap calls on the broker it runs). The MQTT side stays on hand-written
clients (docs/faststream.md), so its channels are declared here, from the contract
(`dr_contracts.topics.MqttTopics`), on the MQTT broker. FastStream renders its document; a
snapshot after each service's declarations tells which operations are that service's.

FastStream's rendering is then reshaped (`_reshape`), because it gets these wrong:
- one channel per publisher/subscriber (ids like `api -> dr.events`, `$share.ingest...`):
  here ONE channel per topic, id = the Kafka topic or `mqtt.<topic without {venId}>`;
- no Kafka key: added as the Kafka message binding `key` (and said in the descriptions);
- one message per operation with the envelope `Fact` (payload: the empty base): here one
  message per fact type, its payload schema the envelope with that type's payload, and the
  operation lists the facts its description names (all of the channel's when it names none);
- servers `Server1`/`Server2`: renamed `kafka`/`mqtt`; schemas come straight from pydantic.
Every address FastStream reports must be a contract topic, or generation fails.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from faststream.kafka import KafkaBroker
from faststream.mqtt import MQTTBroker, QoS
from faststream.specification import AsyncAPI
from pydantic.json_schema import models_json_schema

from dr_contracts import examples, topics
from dr_contracts.acks import Ack, normalize_ack
from dr_contracts.base import Model
from dr_contracts.commands import Command, restore_command, simple_command
from dr_contracts.facts import (
    FACT_TYPES,
    AckReceived,
    CommandIssued,
    EventCreated,
    Fact,
    FactPayload,
    OadrObjectWritten,
    TelemetryReported,
    new_fact,
)
from dr_contracts.telemetry import Telemetry, normalize_telemetry
from dr_runtime.brokers import kafka_broker
from dr_runtime.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
VIEWER = ROOT / "docs" / "viewer"
REGENERATE = "make docs (or: python -m dr_infra asyncapi)"

KAFKA_HOST = "kafka:9092"  # the deployment's names (deploy/compose.yaml)
MQTT_URL = "mqtt://mosquitto:1883"
SCHEMAS = "#/components/schemas/"
VEN_ID = "{venId}"

#: Each topic's record key (FactPayload.key() in dr_contracts.facts): it keeps one VEN's (one
#: event's) facts in order on one partition. FastStream has no key schema, so it is said here.
KAFKA_KEYS: dict[str, str] = {
    topics.DR_EVENTS: "eventId",
    topics.VEN_REGISTRY: "venId",
    topics.DR_COMMANDS: "venId",
    topics.VEN_ACKS: "venId",
    topics.VEN_TELEMETRY: "venId",
    topics.INGEST_REJECTED: "the MQTT topic the payload came on (the projector's: its Kafka place)",
    topics.OADR_OBJECTS: "objectId",
}


# -- the services' declarations ------------------------------------------------------------


@dataclass
class Declarations:
    """The two brokers and, per service, the FastStream operation ids it declared."""

    kafka: KafkaBroker
    mqtt: MQTTBroker
    owners: dict[str, str] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        spec = AsyncAPI(self.kafka, self.mqtt, title="-", version="-", schema_version="3.0.0")
        rendered: dict[str, Any] = json.loads(spec.to_specification().to_json())
        return rendered

    def declare(self, service: str, declare: Callable[[], object]) -> None:
        """Run one service's declarations and remember which operations they added."""
        before = set(self.render().get("operations", {}))
        declare()
        for op_id in set(self.render().get("operations", {})) - before:
            self.owners[op_id] = service


def _kafka_declarations(kafka: KafkaBroker) -> dict[str, Callable[[], object]]:
    """Each service's own channels.py, called the way its bootstrap calls it."""
    from api import channels as api_channels
    from api.settings import Settings as ApiSettings
    from dispatcher import channels as dispatcher_channels
    from dispatcher.settings import Settings as DispatcherSettings
    from ingest import channels as ingest_channels
    from ingest.settings import Settings as IngestSettings

    return {
        "api": lambda: api_channels.declare(kafka, KafkaSettings().topics),
        "api-notifier": lambda: api_channels.notifier_subscriber(kafka, ApiSettings()),
        "dispatcher": lambda: dispatcher_channels.declare(kafka, DispatcherSettings()),
        "ingest": lambda: ingest_channels.declare(kafka, IngestSettings()),
    }


def _noop(model: type[Model]) -> Callable[..., Any]:
    """A handler FastStream can read a payload schema from; the brokers never start."""

    async def handler(body: Any) -> None:
        return None

    parameter = inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model)
    handler.__signature__ = inspect.Signature([parameter])  # type: ignore[attr-defined]
    return handler


def _mqtt_declarations(mqtt: MQTTBroker, share_group: str) -> dict[str, Callable[[], object]]:
    """The contract's MQTT side (docs/contract.md §1): the code keeps its own MQTT clients."""
    t = topics.MqttTopics()
    acks: tuple[str, type[Model]] = (t.ack(VEN_ID), Ack)
    readings: list[tuple[str, type[Model]]] = [
        (topic, Telemetry) for topic in (t.metering, t.oadr_meter(VEN_ID), t.telemetry(VEN_ID))
    ]
    qos1 = QoS.AT_LEAST_ONCE

    def dispatcher() -> None:
        mqtt.publisher(
            t.cmd(VEN_ID),
            qos=qos1,
            schema=Command,
            title=f"dispatcher -> {t.cmd(VEN_ID)}",
            description="Commands to one VEN, QoS 1 with a bounded in-flight window; a retry "
            "repeats the correlationId (dispatcher/adapters/mqtt_publisher.py).",
        )

    def ingest() -> None:
        for topic, model in (acks, *readings):
            mqtt.subscriber(
                topic,
                shared=share_group,
                qos=qos1,
                title=f"bridge <- {topic}",
                description=f"The ingest bridge, shared subscription $share/{share_group}/ (MQTT v5, "
                "persistent session); PUBACK only after Kafka acknowledged the fact.",
            )(_noop(model))

    def vens() -> None:
        mqtt.subscriber(
            t.cmd(VEN_ID),
            qos=qos1,
            title=f"VEN <- {t.cmd(VEN_ID)}",
            description="Each VEN reads its own commands and answers every one on ven/ack/{venId}.",
        )(_noop(Command))
        mqtt.publisher(
            acks[0], qos=qos1, schema=Ack, title=f"VEN -> {acks[0]}", description="One ack per command."
        )
        for topic, model in readings:
            mqtt.publisher(
                topic,
                qos=QoS.AT_MOST_ONCE,
                schema=model,
                title=f"VEN -> {topic}",
                description="A reading every report interval (5 s by default), QoS 0 or 1 "
                "(the simulator: --telemetry-qos, default 1).",
            )

    return {"dispatcher": dispatcher, "ingest": ingest, "ven": vens}


@contextmanager
def _default_settings() -> Iterator[None]:
    """Settings read as if the environment were empty: the document shows the defaults, i.e.
    production's names (no TOPIC_NAMESPACE, MQTT_TOPIC_ROOT, ...), wherever it is generated."""
    saved = dict(os.environ)
    os.environ.clear()
    try:
        yield
    finally:
        os.environ.update(saved)


def declare_all() -> Declarations:
    """Both brokers with every service's channels declared on them, never connected."""
    from ingest.settings import Settings as IngestSettings

    with _default_settings():
        return _declare_all(IngestSettings().bridge_share_group)


def _declare_all(share_group: str) -> Declarations:
    kafka = kafka_broker(
        KafkaSettings(kafka_bootstrap_servers=KAFKA_HOST),
        client_id="asyncapi",
        description="Kafka protocol (Kafka in deploy/compose.yaml, Tansu locally)",
    )
    mqtt = MQTTBroker(MQTT_URL, description="Mosquitto: VENs in the field and the platform")
    declarations = Declarations(kafka, mqtt)
    for steps in (_kafka_declarations(kafka), _mqtt_declarations(mqtt, share_group)):
        for service, declare in steps.items():
            declarations.declare(service, declare)
    return declarations


# -- the contract: channels, messages, schemas ----------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message of a channel: its payload schema, examples and (Kafka) key."""

    name: str
    summary: str
    schema: str
    examples: tuple[Any, ...] = ()
    key: str | None = None
    description: str = ""

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "title": self.name, "summary": self.summary}
        if self.description:
            out["description"] = self.description
        out |= {"contentType": "application/json", "payload": {"$ref": SCHEMAS + self.schema}}
        if self.key is not None:
            key = {"type": "string", "description": f"record key: {self.key}"}
            out["bindings"] = {"kafka": {"key": key, "bindingVersion": "0.4.0"}}
        if self.examples:
            out["examples"] = [
                {"name": f"{self.name}-{i + 1}", "payload": e} for i, e in enumerate(self.examples)
            ]
        return out


@dataclass(frozen=True)
class Channel:
    id: str
    address: str
    protocol: str
    description: str
    messages: tuple[Message, ...]


_NORMALIZED = (
    "The payload schema is the model the platform reads the JSON into ({how}); "
    "the wire keys of this shape are those of the examples (docs/contract.md {section})."
)

_COMMANDS = (
    Message(
        "EventCommand",
        "Start of a DR event: flat legacy fields AND the data object",
        "Command",
        (examples.EVENT_COMMAND,),
        description=_NORMALIZED.format(how="dr_contracts.commands.parse_command", section="§2"),
    ),
    Message(
        "OtherCommand",
        "restore, ping, shedLoad, setLoad, get, set/setConfig",
        "Command",
        (
            restore_command(
                ven_id="ven-001", event_id="evt-7f3a9c21", correlation_id="evt-7f3a9c21-ven-001-restore"
            ),
            simple_command("ping", ven_id="ven-001", correlation_id="cmd-ven-001-5f0c2a9e11d4"),
        ),
        description=_NORMALIZED.format(how="dr_contracts.commands.parse_command", section="§2"),
    ),
)
_ACK_HOW = _NORMALIZED.format(how="dr_contracts.acks.normalize_ack; `shape` says which", section="§3")
_ACKS = (
    Message(
        "AckShapeA",
        "Ack, shape A: the documented envelope (`ok`, venId inside)",
        "Ack",
        (examples.ACK_A,),
        description=_ACK_HOW,
    ),
    Message(
        "AckShapeB",
        "Ack, shape B: deployed firmware, snake_case, venId from the topic",
        "Ack",
        (examples.ACK_B, examples.ACK_RESTORE, examples.ACK_PING),
        description=_ACK_HOW,
    ),
    Message(
        "AckShapeC",
        "Ack, shape C: camelCase, short circuit items",
        "Ack",
        (examples.ACK_C,),
        description=_ACK_HOW,
    ),
)
_READING = Message(
    "Reading",
    "A telemetry reading (canonical and legacy keys; old firmware: legacy keys only)",
    "Telemetry",
    (examples.TELEMETRY, examples.LEGACY_TELEMETRY),
    description=_NORMALIZED.format(how="dr_contracts.telemetry.normalize_telemetry", section="§4")
    + " (venId, timestamp) identifies a reading: one published on several topics is stored once.",
)


def _mqtt_channels() -> list[Channel]:
    t = topics.MqttTopics()
    same = "The same reading as on volttron/metering; stored once, by (venId, timestamp)."
    return [
        Channel("mqtt.ven.cmd", t.cmd(VEN_ID), "mqtt", "Commands, platform -> one VEN (QoS 1).", _COMMANDS),
        Channel(
            "mqtt.ven.ack", t.ack(VEN_ID), "mqtt", "Acks, VEN -> platform (QoS 1): one per command.", _ACKS
        ),
        Channel(
            "mqtt.volttron.metering",
            t.metering,
            "mqtt",
            "Primary telemetry, ONE topic shared by all VENs; venId is inside the payload (QoS 0 or 1).",
            (_READING,),
        ),
        Channel(
            "mqtt.oadr.meter",
            t.oadr_meter(VEN_ID),
            "mqtt",
            f"Per-VEN telemetry (newer firmware). {same}",
            (_READING,),
        ),
        Channel(
            "mqtt.ven.telemetry",
            t.telemetry(VEN_ID),
            "mqtt",
            f"Duplicate of the metering payload, for monitoring (the bridge reads it too). {same}",
            (_READING,),
        ),
    ]


def _fact_examples() -> dict[str, tuple[Any, ...]]:
    """Facts built by the contract code from the contract's own examples (fixed ids and times)."""
    at = datetime(2023, 11, 14, 22, 13, 21, tzinfo=UTC)
    cmd = examples.EVENT_COMMAND
    data = cmd["data"]
    ack = normalize_ack(dict(examples.ACK_B), "ven-123", at)
    reading = normalize_telemetry(dict(examples.TELEMETRY))
    start, end = (datetime.fromtimestamp(data[k], UTC) for k in ("start_ts", "end_ts"))
    payloads: list[FactPayload] = [
        EventCreated(
            eventId=data["event_id"],
            startTime=start,
            endTime=end,
            requestedReductionKw=data["requestedReductionKw"],
        ),
        CommandIssued(
            venId=cmd["venId"],
            correlationId=cmd["correlationId"],
            eventId=cmd["eventId"],
            op=cmd["op"],
            payload=cmd,
            issuedAt=start,
            attempt=1,
        ),
        AckReceived(venId="ven-123", ack=ack, mqttTopic="ven/ack/ven-123", receivedAt=at, raw=examples.ACK_B),
        TelemetryReported(
            venId=reading.venId,
            reading=reading,
            mqttTopic="volttron/metering",
            receivedAt=at,
            raw=examples.TELEMETRY,
        ),
        OadrObjectWritten(
            objectType="PROGRAM",
            objectId="5b1c0c0e4a3f4a4f8d1e2f3a4b5c6d7e",
            clientId="bl",
            body={"programName": "summer-peak", "targets": ["site-a"]},
        ),
    ]
    facts = (new_fact(p, fact_id=f"example-{p.TYPE}", occurred_at=at) for p in payloads)
    return {f.type: (f.model_dump(mode="json"),) for f in facts}


def _kafka_channels() -> list[Channel]:
    names = topics.KafkaTopics().all()
    fact_examples = _fact_examples()
    channels = []
    for base, partitions in topics.DEFAULT_PARTITIONS.items():
        key = KAFKA_KEYS[base]
        messages = tuple(
            Message(
                name,
                (cls.__doc__ or f"{name} fact").strip().split("\n")[0],
                f"{name}Fact",
                fact_examples.get(name, ()),
                key,
            )
            for name, cls in FACT_TYPES.items()
            if cls.TOPIC == base
        )
        text = f"Facts {', '.join(m.name for m in messages)}; key {key}; {partitions} partitions by default."
        channels.append(Channel(base, names[base], "kafka", text, messages))
    return channels


def _schemas() -> dict[str, Any]:
    """Every payload schema from pydantic, plus the envelope specialised per fact type."""
    models: list[type[Model]] = [Fact, Ack, Telemetry, Command, *FACT_TYPES.values()]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMAS + "{model}")
    schemas: dict[str, Any] = top["$defs"]
    schemas.pop(FactPayload.__name__, None)
    envelope = schemas["Fact"]["properties"]
    envelope["payload"] = {"type": "object", "description": "The payload of the fact's `type`."}
    envelope["key"]["description"] = "The Kafka record key, repeated."
    for name in FACT_TYPES:
        schemas[f"{name}Fact"] = {
            "title": f"{name}Fact",
            "description": f"The envelope of a {name} fact.",
            "allOf": [
                {"$ref": SCHEMAS + "Fact"},
                {"properties": {"type": {"const": name}, "payload": {"$ref": SCHEMAS + name}}},
            ],
        }
    return dict(sorted(schemas.items()))


# -- reshaping FastStream's rendering -------------------------------------------------------


_VERBS = {"send": "sends to", "receive": "receives from"}


def _named_messages(description: str, channel: Channel) -> list[Message]:
    named = [m for m in channel.messages if m.name in description]
    return named or list(channel.messages)


def _operations(
    rendered: dict[str, Any], owners: dict[str, str], by_address: dict[tuple[str, str], Channel]
) -> dict[str, Any]:
    """FastStream's operations, pointed at the merged channels and tagged with their service."""
    raw_channels = rendered["channels"]
    protocols = {f"#/servers/{k}": v["protocol"] for k, v in rendered["servers"].items()}
    entries: list[tuple[str, dict[str, Any]]] = []
    for op_id, op in rendered["operations"].items():
        raw_ref = op["channel"]["$ref"]
        raw_id = unquote(raw_ref.removeprefix("#/channels/")).replace("~1", "/").replace("~0", "~")
        raw = raw_channels[raw_id]
        protocol = protocols[raw["servers"][0]["$ref"]]
        channel = by_address.get((protocol, raw["address"]))
        if channel is None:
            raise ValueError(
                f"{owners.get(op_id)} declares {protocol} {raw['address']!r}: not a contract topic"
            )
        service = owners[op_id]
        description = raw.get("description", "")
        entry: dict[str, Any] = {
            "action": op["action"],
            "channel": {"$ref": f"#/channels/{channel.id}"},
            "title": raw_id,
            "summary": f"{service} {_VERBS[op['action']]} {raw['address']}",
        }
        if description:
            entry["description"] = description
        entry["tags"] = [{"name": service}]
        if "bindings" in op:
            entry["bindings"] = op["bindings"]
        entry["messages"] = [
            {"$ref": f"#/channels/{channel.id}/messages/{m.name}"}
            for m in _named_messages(description, channel)
        ]
        entry["x-service"] = service
        entries.append((f"{service}.{op['action']}.{channel.id}", entry))
    out: dict[str, Any] = {}
    for op_id, entry in sorted(entries, key=lambda e: (e[0], e[1]["title"])):
        # A service with two operations on one topic (ingest: bridge and projector): number them.
        out[op_id if op_id not in out else f"{op_id}.{sum(k.startswith(op_id) for k in out) + 1}"] = entry
    return out


def _reshape(rendered: dict[str, Any], owners: dict[str, str]) -> dict[str, Any]:
    channels = _kafka_channels() + _mqtt_channels()
    by_address = {(c.protocol, c.address): c for c in channels}
    servers = {v["protocol"]: v for v in rendered["servers"].values()}
    messages: dict[str, Any] = {}
    rendered_channels: dict[str, Any] = {}
    for c in channels:
        entry: dict[str, Any] = {"address": c.address, "title": c.address, "description": c.description}
        entry["servers"] = [{"$ref": f"#/servers/{c.protocol}"}]
        if VEN_ID in c.address:
            entry["parameters"] = {"venId": {"description": "The VEN's id (dr_contracts.base.ID_PATTERN)."}}
        entry["messages"] = {m.name: {"$ref": f"#/components/messages/{m.name}"} for m in c.messages}
        if c.protocol == "kafka":
            partitions = topics.DEFAULT_PARTITIONS[c.id]
            entry["bindings"] = {
                "kafka": {"topic": c.address, "partitions": partitions, "bindingVersion": "0.4.0"}
            }
        rendered_channels[c.id] = entry
        messages |= {m.name: m.render() for m in c.messages}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "DR platform: Kafka facts and the MQTT contract",
            "version": "0.1.0",
            "description": (
                "Generated by `python -m dr_infra asyncapi` (libs/infra/dr_infra/asyncapi.py) from each "
                "service's channels.py and dr_contracts; do not edit by hand. Kafka record keys are in "
                "the Kafka message bindings and descriptions. Each operation is tagged with the service "
                "that runs it (`ven`: the field devices, simulated by services/ven-sim). "
                "Topic names are those of production: tests add a namespace (Kafka) or root (MQTT)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": servers,
        "channels": rendered_channels,
        "operations": _operations(rendered, owners, by_address),
        "components": {"messages": dict(sorted(messages.items())), "schemas": _schemas()},
    }


def build_document() -> dict[str, Any]:
    """The whole document, as a dict."""
    declarations = declare_all()
    return _reshape(declarations.render(), declarations.owners)


def to_yaml(document: dict[str, Any]) -> str:
    header = f"# Generated: do not edit. Regenerate with `{REGENERATE}`.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


# -- the offline viewer page ----------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>DR platform: AsyncAPI</title>
<link rel="stylesheet" href="default.min.css">
</head>
<body>
<div id="asyncapi"></div>
<script src="asyncapi.js"></script>
<script src="index.js"></script>
<script>
AsyncApiStandalone.render(
  {schema: window.ASYNCAPI_DOCUMENT, config: {show: {sidebar: true}}},
  document.getElementById("asyncapi"),
);
</script>
</body>
</html>
"""


def write_site(document: dict[str, Any], out: Path, viewer: Path = VIEWER) -> Path:
    """A static page (no server, no CDN): the vendored viewer bundle with the document inlined."""
    bundle = viewer / "node_modules" / "@asyncapi" / "react-component"
    if not bundle.is_dir():
        raise FileNotFoundError(f"{bundle} is missing: run `npm ci` in {viewer}")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundle / "browser" / "standalone" / "index.js", out / "index.js")
    shutil.copyfile(bundle / "styles" / "default.min.css", out / "default.min.css")
    (out / "asyncapi.js").write_text(f"window.ASYNCAPI_DOCUMENT = {json.dumps(document)};\n")
    page = out / "index.html"
    page.write_text(_PAGE)
    return page


def main(args: argparse.Namespace) -> int:
    document = build_document()
    text = to_yaml(document)
    if args.check:
        if not DOCUMENT.is_file() or DOCUMENT.read_text() != text:
            print(f"dr-infra: {DOCUMENT.relative_to(ROOT)} is stale: run `{REGENERATE}`")
            return 1
        print(f"dr-infra: {DOCUMENT.relative_to(ROOT)} is up to date")
        return 0
    DOCUMENT.write_text(text)
    print(f"dr-infra: wrote {DOCUMENT.relative_to(ROOT)}")
    if args.site:
        print(f"dr-infra: open file://{write_site(document, Path(args.site).resolve())}")
    return 0


def add_parser(sub: Any) -> None:
    """The `asyncapi` subcommand of dr_infra.cli."""
    parser = sub.add_parser("asyncapi", help="generate docs/asyncapi.yaml from the services' channels")
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/asyncapi.yaml is stale")
    parser.add_argument("--site", metavar="DIR", help="also write the offline viewer page into DIR")
