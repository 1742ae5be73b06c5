"""The write use cases against fakes: what they append, and when they refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.domain.events import NewEvent
from api.domain.limits import Limits
from api.service import Writer
from tests.unit.api.fakes import FakeFactLog, FakeRegistry, FakeWatch

pytestmark = pytest.mark.unit

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _writer(registry: FakeRegistry, facts: FakeFactLog, drawn: list[str]) -> Writer:
    draws = iter(drawn)
    return Writer(
        facts, registry, FakeWatch(), Limits(), 1.0, clock=lambda: NOW, new_event_id=lambda: next(draws)
    )


def _event() -> NewEvent:
    return NewEvent.model_validate(
        {
            "startTime": (NOW + timedelta(hours=1)).isoformat(),
            "endTime": (NOW + timedelta(hours=2)).isoformat(),
            "requestedReductionKw": 5,
        }
    )


async def test_a_taken_event_id_is_drawn_again() -> None:
    registry, facts = FakeRegistry(), FakeFactLog()
    registry.add_event("evt-0000000a", "completed")
    written = await _writer(registry, facts, ["evt-0000000a", "evt-0000000b"]).create_event(_event())
    assert written.payload.eventId == "evt-0000000b"
    assert [f.payload.eventId for f in facts.facts] == ["evt-0000000b"]


async def test_no_fact_when_every_draw_is_taken() -> None:
    registry, facts = FakeRegistry(), FakeFactLog()
    registry.add_event("evt-0000000a", "scheduled")
    with pytest.raises(RuntimeError, match="no unused event id"):
        await _writer(registry, facts, ["evt-0000000a"] * 8).create_event(_event())
    assert facts.facts == []
