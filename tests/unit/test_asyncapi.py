"""docs/asyncapi.yaml: up to date with the code, a valid AsyncAPI 3.0 document, the contract's topics only."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from dr_contracts import examples, topics
from dr_infra import asyncapi

pytestmark = pytest.mark.unit

#: The official schema (npm @asyncapi/specs 6.11.1, schemas/3.0.0.json; Apache-2.0, see its LICENSE).
SPEC_SCHEMA = asyncapi.ROOT / "docs" / "vendor" / "asyncapi-specs" / "3.0.0.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi.build_document()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    """Offline: the schema's $refs are `$id`s of definitions inside the same file."""
    return jsonschema.Draft7Validator(json.loads(SPEC_SCHEMA.read_text()))


def test_the_committed_document_is_what_the_code_generates(document: dict[str, Any]) -> None:
    committed = asyncapi.DOCUMENT.read_text() if asyncapi.DOCUMENT.is_file() else ""
    assert committed == asyncapi.to_yaml(document), (
        f"docs/asyncapi.yaml is stale: run `{asyncapi.REGENERATE}` and commit the result"
    )


def test_the_document_is_valid_asyncapi_3(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    committed = yaml.safe_load(asyncapi.DOCUMENT.read_text())
    for doc in (document, committed):
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(doc)
        ]
        assert errors == []


def test_the_validator_refuses_what_asyncapi_3_forbids(
    document: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    """The vendored schema really checks: an AsyncAPI 2 verb and a missing `info` are errors."""
    broken = copy.deepcopy(document)
    next(iter(broken["operations"].values()))["action"] = "publish"
    del broken["info"]
    paths = {tuple(e.absolute_path)[:1] for e in validator.iter_errors(broken)}
    assert paths >= {(), ("operations",)}


def test_the_channels_are_exactly_the_contract_topics(document: dict[str, Any]) -> None:
    t = topics.MqttTopics()
    ven = asyncapi.VEN_ID
    mqtt = {t.cmd(ven), t.ack(ven), t.metering, t.oadr_meter(ven), t.telemetry(ven)}
    kafka = set(topics.KafkaTopics().all().values())
    by_protocol: dict[str, set[str]] = {"kafka": set(), "mqtt": set()}
    for channel in document["channels"].values():
        server = channel["servers"][0]["$ref"].removeprefix("#/servers/")
        by_protocol[document["servers"][server]["protocol"]].add(channel["address"])
    assert by_protocol == {"kafka": kafka, "mqtt": mqtt}
    # Besides the contract's topics the bridge reads the broker's re-routing of the legacy one,
    # which names the gateway that published (dr_infra.broker_plugin): no device publishes there.
    device_filters = set(t.ingest_filters()) - {t.metering_from("+")}
    assert {f.replace("+", ven) for f in device_filters} <= mqtt


def test_every_channel_has_a_sender_and_a_receiver_and_operations_use_its_messages(
    document: dict[str, Any],
) -> None:
    actions: dict[str, set[str]] = {name: set() for name in document["channels"]}
    for op in document["operations"].values():
        channel = op["channel"]["$ref"].removeprefix("#/channels/")
        actions[channel].add(op["action"])
        own = {f"#/channels/{channel}/messages/{name}" for name in document["channels"][channel]["messages"]}
        assert {m["$ref"] for m in op["messages"]} <= own
        assert op["x-service"] in {"api", "api-notifier", "dispatcher", "ingest", "ven"}
    assert {name: {"send", "receive"} for name in actions} == actions


def test_messages_carry_the_contract_examples_and_kafka_keys(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    shown = {name: [e["payload"] for e in m.get("examples", [])] for name, m in messages.items()}
    assert shown["EventCommand"] == [examples.EVENT_COMMAND]
    assert [shown[f"AckShape{s}"][0] for s in "ABC"] == [examples.ACK_A, examples.ACK_B, examples.ACK_C]
    assert shown["Reading"] == [examples.TELEMETRY, examples.LEGACY_TELEMETRY]
    keys = {
        name: m["bindings"]["kafka"]["key"]["description"] for name, m in messages.items() if "bindings" in m
    }
    assert keys["EventCreated"] == "record key: eventId"
    assert keys["AckReceived"] == "record key: venId"


def test_the_site_page_loads_only_local_files(document: dict[str, Any], tmp_path: Path) -> None:
    bundle = tmp_path / "viewer" / "node_modules" / "@asyncapi" / "react-component"
    (bundle / "browser" / "standalone").mkdir(parents=True)
    (bundle / "styles").mkdir()
    (bundle / "browser" / "standalone" / "index.js").write_text("// bundle")
    (bundle / "styles" / "default.min.css").write_text("/* css */")
    page = asyncapi.write_site(document, tmp_path / "site", viewer=tmp_path / "viewer")
    html = page.read_text()
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == ["default.min.css", "asyncapi.js", "index.js"]
    assert all((page.parent / name).is_file() for name in ("default.min.css", "asyncapi.js", "index.js"))
    inlined = (page.parent / "asyncapi.js").read_text().removeprefix("window.ASYNCAPI_DOCUMENT = ")
    assert json.loads(inlined.rstrip().removesuffix(";")) == document
