"""The projector's lag watch: the gauge per topic, and a stalled partition logged once."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from ingest.service.lag import LagWatch

pytestmark = pytest.mark.unit

A0, A1, B0 = ("lag.a", 0), ("lag.a", 1), ("lag.b", 0)


def lag(topic: str) -> float | None:
    return REGISTRY.get_sample_value("ingest_projection_lag_records", {"topic": topic})


def events(logs: list[dict]) -> list[tuple[str, tuple[str, int]]]:
    return [(e["event"], (e["topic"], e["partition"])) for e in logs]


def test_the_gauge_sums_each_topics_waiting_records_and_drops_revoked_partitions() -> None:
    watch = LagWatch(stall_s=10)
    watch.observe(0.0, [(A0, 5, 9), (A1, 3, 3), (B0, 0, 2)], None)
    assert (lag("lag.a"), lag("lag.b")) == (4, 2)
    watch.observe(1.0, [(A0, 9, 9)], None)  # B0 revoked, A0 caught up
    assert (lag("lag.a"), lag("lag.b")) == (0, 0)


def test_a_partition_with_records_waiting_and_no_progress_is_logged_once_then_its_resumption() -> None:
    watch = LagWatch(stall_s=10)
    with capture_logs() as logs:
        watch.observe(0.0, [(A0, 5, 9), (A1, 3, 3)], None)
        watch.observe(9.0, [(A0, 5, 9), (A1, 3, 3)], None)
        assert logs == []  # not yet 10 s
        watch.observe(10.0, [(A0, 5, 9), (A1, 3, 3)], 8.0)
        watch.observe(11.0, [(A0, 5, 9), (A1, 3, 3)], None)  # once
        watch.observe(12.0, [(A0, 7, 9), (A1, 3, 3)], None)
    assert events(logs) == [("projection.stalled", A0), ("projection.resumed", A0)]
    stalled, resumed = logs
    assert (stalled["applied"], stalled["high_watermark"], stalled["waiting"]) == (5, 9, 4)
    assert (stalled["stalled_s"], stalled["in_batch_s"], stalled["log_level"]) == (10.0, 8.0, "warning")
    assert (resumed["applied"], resumed["stalled_s"]) == (7, 12.0)


def test_an_idle_partition_is_not_stalled() -> None:
    watch = LagWatch(stall_s=10)
    with capture_logs() as logs:
        watch.observe(0.0, [(A0, 5, 5)], None)
        watch.observe(30.0, [(A0, 5, 5)], None)
        watch.observe(31.0, [(A0, 5, 6)], None)  # a record arrives after a long idle
        watch.observe(40.0, [(A0, 5, 6)], None)
        assert logs == []
        watch.observe(41.0, [(A0, 5, 6)], None)
    assert events(logs) == [("projection.stalled", A0)]
