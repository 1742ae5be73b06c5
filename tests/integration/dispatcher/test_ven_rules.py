"""The dispatcher's VEN reader at the read model's boundaries (real Postgres, `vens` seeded)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from dispatcher.adapters.vens import PostgresVenDirectory
from dispatcher.domain.allocation import Candidate
from dispatcher.settings import Settings
from tests.integration.dispatcher.support import query, seed_vens

pytestmark = pytest.mark.integration


@pytest.fixture
async def directory(settings: Settings) -> AsyncIterator[PostgresVenDirectory]:
    vens = PostgresVenDirectory(settings.database_url, settings.ven_online_missed_intervals)
    await vens.start()
    yield vens
    await vens.stop()


async def test_deleted_vens_are_never_candidates(directory: PostgresVenDirectory, pg_db: str) -> None:
    live, gone = f"ven-live-{uuid.uuid4().hex[:8]}", f"ven-gone-{uuid.uuid4().hex[:8]}"
    await seed_vens(pg_db, {live: 1.0, gone: 2.0})
    await query(pg_db, "UPDATE vens SET deleted_at = now() WHERE ven_id = %s RETURNING ven_id", gone)
    found, _ = await directory.candidates(None)
    assert found == [Candidate(live, 1.0)]  # online or targeted, a candidate keeps its capability
    found, missing = await directory.candidates([gone, live])
    assert (found, missing) == ([Candidate(live, 1.0)], [gone])


async def test_online_cut_off_follows_the_shared_setting(directory: PostgresVenDirectory, pg_db: str) -> None:
    """Untargeted events use the VENs whose last reading is within the setting's intervals (3)."""
    inside, outside = f"ven-in-{uuid.uuid4().hex[:8]}", f"ven-out-{uuid.uuid4().hex[:8]}"
    await seed_vens(pg_db, {inside: 1.0, outside: 1.0})  # report interval: 3600 s
    await query(
        pg_db,
        "UPDATE vens SET last_seen = now() - make_interval(secs => CASE ven_id WHEN %s THEN %s ELSE %s END)"
        " RETURNING ven_id",
        inside,
        3 * 3600 - 60,
        3 * 3600 + 60,
    )
    found, _ = await directory.candidates(None)
    assert [c.ven_id for c in found] == [inside]


async def test_an_openadr_ven_is_never_a_candidate_of_an_untargeted_event(
    directory: PostgresVenDirectory, pg_db: str
) -> None:
    """It reads its events over OpenADR: a command over MQTT would go unanswered (docs/openadr.md)."""
    mqtt, oadr = f"ven-mqtt-{uuid.uuid4().hex[:8]}", f"ven-oadr-{uuid.uuid4().hex[:8]}"
    await seed_vens(pg_db, {mqtt: 1.0, oadr: 1.0})
    await query(pg_db, "UPDATE vens SET source = 'openadr' WHERE ven_id = %s RETURNING ven_id", oadr)
    found, _ = await directory.candidates(None)
    assert [c.ven_id for c in found] == [mqtt]
