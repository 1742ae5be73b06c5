"""Crash every platform service in turn, and restart Mosquitto, during an active event.

Nothing acknowledged is lost (every VEN's event command and restore are acked and
projected) and nothing is applied twice (the simulator counts applications per
correlationId). The simulator itself is the field, not the platform: it is not killed.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.fixtures.waiting import wait_for

from .helpers import all_responding, event_body, event_reaches, online_vens, sim_status

pytestmark = pytest.mark.e2e
VENS = 5


async def test_sigkill_each_service_and_restart_mosquitto_mid_event(
    platform_factory,
    api_for,
    infra,
    pg_db: str,
) -> None:
    if infra.backend != "local":
        pytest.skip("restarts the local Mosquitto process")
    platform = platform_factory(VENS)
    api = api_for(platform)
    stats = await online_vens(api, VENS)
    created = await api.post(
        "/api/events", json=event_body(lead_s=2, duration_s=40, kw=0.5 * stats["potentialLoadReductionKw"])
    )
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    await all_responding(api, event_id, VENS)

    for name in ("projector", "bridge", "dispatcher", "api"):
        service = platform.services[name]
        service.kill()
        service.start()  # waits until the new process is ready
    infra.stack.mqtt.restart()

    with psycopg.connect(pg_db, autocommit=True) as db:
        restarted_at = db.execute("SELECT now()").fetchone()[0]

        def telemetry_flows_again() -> bool:
            row = db.execute(
                "SELECT count(DISTINCT ven_id) FROM ven_telemetry WHERE received_at > %s", (restarted_at,)
            ).fetchone()
            return row[0] == VENS

        await wait_for(
            telemetry_flows_again, timeout=60, message="telemetry from every VEN after the restarts"
        )
        done = await event_reaches(api, event_id, "completed", deadline_s=90)
        assert done["vensResponding"] == VENS

        def all_restores_acked() -> bool:
            row = db.execute(
                "SELECT count(*) FROM ven_commands WHERE event_id = %s AND op = 'restore' "
                "AND outcome = 'acked'",
                (event_id,),
            ).fetchone()
            return row[0] == VENS

        await wait_for(all_restores_acked, timeout=60, message="every restore acked and projected")
        outcomes = db.execute(
            "SELECT op, outcome, count(*) FROM ven_commands WHERE event_id = %s "
            "GROUP BY op, outcome ORDER BY op",
            (event_id,),
        ).fetchall()
        assert outcomes == [("event", "acked", VENS), ("restore", "acked", VENS)]
        duplicates = db.execute(
            "SELECT count(*) - count(DISTINCT (ven_id, ts)) FROM ven_telemetry"
        ).fetchone()
        assert duplicates[0] == 0

    applied = await sim_status(platform.sim_url, "/status/applied")
    mine = {cid: n for cid, n in applied.items() if cid.startswith(event_id)}
    assert len(mine) == 2 * VENS and set(mine.values()) == {1}, mine
