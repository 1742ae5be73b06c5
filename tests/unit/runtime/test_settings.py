"""Shared settings blocks: what the environment may say, and what it may not."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dr_contracts.topics import DEFAULT_PARTITIONS
from dr_runtime.settings import KafkaSettings

pytestmark = pytest.mark.unit


def test_partition_counts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPIC_NAMESPACE", "t1")
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "ven.telemetry=16, dr.events=2")
    parts = KafkaSettings().topic_partitions
    assert parts["ven.telemetry.t1"] == 16 and parts["dr.events.t1"] == 2
    assert parts["ven.acks.t1"] == DEFAULT_PARTITIONS["ven.acks"]
    assert len(parts) == len(DEFAULT_PARTITIONS)


@pytest.mark.parametrize(
    ("value", "reason"),
    [("nope=3", "unknown topics"), ("ven.acks", "expected name=count"), ("ven.acks=x", "integer")],
)
def test_bad_partition_counts_fail_at_start(monkeypatch: pytest.MonkeyPatch, value: str, reason: str) -> None:
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", value)
    with pytest.raises(ValidationError, match=reason):
        KafkaSettings()
