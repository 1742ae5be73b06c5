"""Outage logging: one line when it starts, one (with its duration) when it ends, none between."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from dr_runtime.outage import Outage

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends() -> None:
    clock = Clock()
    outage = Outage("postgres", "projector", clock)
    with capture_logs() as logs:
        steps = [outage.failed(ConnectionError("refused")) for _ in range(5)]
        clock.now += 12.34
        outage.recovered()
        outage.recovered()
    assert steps == [0, 1, 2, 3, 4]
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("outage.started", "warning"),
        ("outage.ended", "info"),
    ]
    started, ended = logs
    assert (
        started["dependency"] == "postgres"
        and started["loop"] == "projector"
        and started["error"] == "refused"
    )
    assert ended["duration_s"] == 12.3 and ended["failed_attempts"] == 5


def test_a_new_outage_starts_over() -> None:
    clock = Clock()
    outage = Outage("kafka", "bridge", clock)
    outage.failed(TimeoutError())
    outage.recovered()
    assert not outage.ongoing and outage.attempts == 0
    with capture_logs() as logs:
        assert outage.failed(TimeoutError()) == 0
    assert outage.ongoing
    assert [e["event"] for e in logs] == ["outage.started"]
    assert logs[0]["error"] == "TimeoutError()"


def test_success_without_an_outage_logs_nothing() -> None:
    outage = Outage("mqtt", "bridge")
    with capture_logs() as logs:
        outage.recovered()
    assert logs == []
