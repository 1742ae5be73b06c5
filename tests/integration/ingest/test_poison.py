"""A fact Postgres refuses is skipped and counted; a bug in the projector stops it, skipping nothing."""

from __future__ import annotations

import base64
from collections.abc import Awaitable
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from dr_contracts.facts import PayloadRejected, VenRegistered
from dr_contracts.rejection import Rejected
from ingest.bootstrap import running_projector
from ingest.settings import Settings
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, Worker, append, query

pytestmark = pytest.mark.integration

#: `python -m ingest projector` with a bug in the registry fold for one VEN.
BUGGY_PROJECTOR = """
import sys

from ingest import __main__ as cli
from ingest.adapters import pg_events

fold = pg_events.register


def register(state, fact, at):
    if fact.venId == "ven-bug":
        raise KeyError("a bug in the projection code")
    return fold(state, fact, at)


pg_events.register = register
cli.main(sys.argv[1:])
"""


def poison_total(topic: str) -> float:
    return REGISTRY.get_sample_value("ingest_poison_facts_total", {"topic": topic}) or 0.0


async def applied(settings: Settings, topic: str) -> int:
    """How many records of `topic` the stored offsets have moved past."""
    [(n,)] = await query(
        settings, "SELECT coalesce(sum(next_offset), 0) FROM projection_offsets WHERE topic = %s", topic
    )
    return int(n)


def rejection(text: str) -> PayloadRejected:
    refusal = Rejected("invalid_json", text)
    return PayloadRejected.of("ven/ack/ven-1", text.encode(), refusal, datetime.now(UTC))


async def test_a_fact_postgres_refuses_is_skipped_and_counted_and_the_next_ones_applied(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    topic = settings.topics.ingest_rejected  # one partition: the facts are applied in this order
    before = poison_total(topic)
    facts = [rejection("first"), rejection("nul \x00 in text"), rejection("third"), rejection("fourth")]
    async with running_projector(settings) as projector:
        await wait_for(projector.assigned.is_set, DEADLINE_S)
        await append(producer, settings, *facts)
        await wait_for(lambda: at_least(applied(settings, topic), len(facts)), DEADLINE_S)
    rows = await query(settings, "SELECT raw_b64 FROM ingest_rejections")
    assert sorted(base64.b64decode(raw) for (raw,) in rows) == [b"first", b"fourth", b"third"]
    assert poison_total(topic) - before == 1


async def at_least(count: Awaitable[int], n: int) -> bool:
    return await count >= n


async def names(settings: Settings) -> list[tuple[str, str]]:
    return await query(settings, "SELECT ven_id, name FROM vens ORDER BY ven_id")


async def test_a_bug_stops_the_projector_without_moving_the_offsets(
    settings: Settings, producer: AIOKafkaProducer, workers: list[Worker]
) -> None:
    registry = settings.topics.ven_registry
    buggy = Worker("projector", settings, "projection.assigned", code=BUGGY_PROJECTOR)
    workers.append(buggy)
    await buggy.started()
    await append(producer, settings, VenRegistered(venId="ven-1", name="One"))
    await wait_for(lambda: at_least(applied(settings, registry), 1), DEADLINE_S)

    await append(producer, settings, VenRegistered(venId="ven-bug", name="Bug"))
    assert await buggy.exited() != 0  # loudly: the process ends with the exception
    [failed] = buggy.logged("projection.failed")
    assert "KeyError" in failed["error"] and failed["batch"], failed
    assert await applied(settings, registry) == 1  # nothing skipped: the offsets stay
    assert await names(settings) == [("ven-1", "One")]

    async with running_projector(settings):  # fixed: it resumes where the offsets are
        await wait_for(lambda: at_least(applied(settings, registry), 2), DEADLINE_S)
    assert await names(settings) == [("ven-1", "One"), ("ven-bug", "Bug")]
