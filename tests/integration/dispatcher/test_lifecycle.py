"""One dispatcher against real Tansu, Mosquitto and Postgres, commanding simulated VENs.

Commands reach VENs of the simulator; their acks come back through the ingest bridge.
The first test takes the `vens` read model from the real projector (fed by the VENs'
telemetry); the others seed it with fixed capabilities and online states, because they
are about the dispatcher's own decisions and need exact, known inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from prometheus_client import REGISTRY

from dispatcher.bootstrap import Runtime, running_dispatcher
from dr_contracts.facts import CommandRequested, EventCancelled, EventCreated, EventStopRequested
from dr_contracts.ids import correlation_id, new_event_id
from ingest.bootstrap import running_projector
from tests.fixtures.waiting import wait_for
from tests.integration.dispatcher.support import (
    FactTail,
    answer,
    append,
    applied_to,
    capability,
    query,
    received,
    seed_vens,
)

pytestmark = pytest.mark.integration

#: Timers fire on an asyncio loop: allow this much earliness from float rounding.
EARLY = timedelta(milliseconds=20)


def event(start: datetime, end: datetime, kw: float, ven_ids=None, start_now=False) -> EventCreated:
    return EventCreated(
        eventId=new_event_id(),
        startTime=start,
        endTime=end,
        requestedReductionKw=kw,
        venIds=ven_ids,
        startNow=start_now,
    )


def ack_status(runtime: Runtime, cid: str) -> str | None:
    """How the dispatcher's ledger says this command was answered (None: not yet)."""
    rec = runtime.dispatcher.ledger.get(cid)
    return None if rec is None else rec.ack_status


async def test_scheduled_event_runs_its_whole_lifecycle(
    settings, ingest_settings, start_sim, bridge, tail, pg_db
):
    """Every real part: the projector builds `vens` from the simulator's telemetry."""
    await seed_vens(pg_db, {"ven-stale": 5.0}, online=False)  # known, but last seen a day ago
    sim = await start_sim(vens=3, interval_s=2.0)  # online while a reading is < 6 s old
    fleet = set(sim.vens)
    telemetry = FactTail(settings, settings.topics.ven_telemetry)
    async with (
        telemetry.running(),
        running_projector(ingest_settings),
        running_dispatcher(settings) as runtime,
    ):

        async def registered() -> bool:
            rows = await query(pg_db, "SELECT ven_id FROM vens WHERE source = 'telemetry'")
            return {v for (v,) in rows} == fleet

        await wait_for(registered, 20, 0.1, message="the VENs' telemetry was never projected")
        now = datetime.now(UTC)
        evt = event(now + timedelta(seconds=1.5), now + timedelta(seconds=3.5), kw=3)
        await append(settings, evt)
        eid = evt.eventId
        [activated] = await wait_for(lambda: tail.of("EventActivated", eid), 20, message="no activation")
        assert activated.activatedAt >= evt.startTime - EARLY
        shares = {a.venId: a for a in activated.allocations}
        assert set(shares) == fleet  # every online VEN; ven-stale is offline

        # Allocation by capability: each VEN's capability is what one of its readings said,
        # no VEN gets more than that, and the uncapped ones share in proportion to it.
        def from_telemetry() -> bool:
            return all(
                any(capability(r) == pytest.approx(a.capabilityKw, abs=1e-6) for r in telemetry.readings(v))
                for v, a in shares.items()
            )

        await wait_for(from_telemetry, 10, message=lambda: f"capabilities {shares} not in any reading")
        assert all(a.shedKw <= a.capabilityKw for a in shares.values())
        total = sum(a.shedKw for a in shares.values())
        assert total + activated.unallocatedKw == pytest.approx(3, abs=0.001)
        uncapped = [a for a in shares.values() if a.shedKw < a.capabilityKw - 0.001]
        if uncapped:
            ratio = sum(a.shedKw for a in uncapped) / sum(a.capabilityKw for a in uncapped)
            assert all(abs(a.shedKw - ratio * a.capabilityKw) <= 0.001 for a in uncapped)

        [completed] = await wait_for(lambda: tail.of("EventCompleted", eid), 20, message="not completed")
        assert completed.outcome == "completed"
        await wait_for(lambda: applied_to(sim, eid, "restore") == fleet, 10, message="not restored")
        cids = {(v, op): correlation_id(eid, v, op) for v in fleet for op in ("event", "restore")}
        applied = sim.applied()
        assert {cid: applied.get(cid) for cid in cids.values()} == dict.fromkeys(cids.values(), 1)
        assert {cid for cid in applied if cid.startswith(eid)} == set(cids.values())

        # Acks went VEN -> MQTT -> bridge -> ven.acks, and the dispatcher matched each one.
        await wait_for(lambda: all(tail.acks(cid) for cid in cids.values()), 10, message="acks missing")
        await wait_for(lambda: all(ack_status(runtime, cid) for cid in cids.values()), 10)
        issued = {c.correlationId: c for c in tail.of("CommandIssued", eid)}
        assert set(issued) == set(cids.values())  # an event and a restore per VEN, nothing else
        for ven, share in shares.items():
            cmd = issued[cids[ven, "event"]].payload
            assert cmd["shed_kw"] == share.shedKw == cmd["data"]["requestedReductionKw"]
            assert cmd["duration_sec"] == cmd["data"]["duration_s"] == 2
            shed = answer(tail, cids[ven, "event"])
            assert (shed.status, shed.eventId, shed.requestedShedKw) == ("accepted", eid, share.shedKw)
            assert shed.ts >= evt.startTime - EARLY  # the VEN handled it at the start, not before
            restore = answer(tail, cids[ven, "restore"])
            assert (restore.status, restore.eventId) == ("success", eid)
            assert restore.ts >= evt.endTime - EARLY
            assert ack_status(runtime, cids[ven, "event"]) == "accepted"
            assert ack_status(runtime, cids[ven, "restore"]) == "success"
            assert sim.vens[ven].event is None


async def test_allocation_follows_capability(settings, start_sim, bridge, tail, pg_db):
    """Exact shares from known capabilities (seeded): capped VENs, unknown ones, unallocated kW."""
    sim = await start_sim(vens=5)
    a, b, c, d, e = sorted(sim.vens)
    await seed_vens(pg_db, {a: 2.0, b: 6.0, c: None})
    await seed_vens(pg_db, {d: 1.0, e: 0.5}, online=False)  # targeted VENs count whatever their status
    async with running_dispatcher(settings):
        now = datetime.now(UTC)
        later = now + timedelta(minutes=5)
        every_online = event(now, later, 14, start_now=True)
        targeted = event(now, later, 5, [d, e], start_now=True)
        await append(settings, every_online, targeted)
        expected = {
            # a and b are capped at what they can shed; c (unknown) takes the rest.
            every_online.eventId: ({a: 2.0, b: 6.0, c: 6.0}, 0.0),
            # both capped: what they cannot take is reported, not forced on them.
            targeted.eventId: ({d: 1.0, e: 0.5}, 3.5),
        }
        for eid, (shares, unallocated) in expected.items():
            [activated] = await wait_for(lambda eid=eid: tail.of("EventActivated", eid), 20)
            assert {x.venId: x.shedKw for x in activated.allocations} == shares
            assert activated.unallocatedKw == pytest.approx(unallocated)
            await wait_for(lambda eid=eid, s=shares: applied_to(sim, eid, "event") == set(s), 10)
            for ven, kw in shares.items():
                current = sim.vens[ven].event
                assert current is not None and (current.event_id, current.requested_kw) == (eid, kw)
                cid = correlation_id(eid, ven, "event")
                await wait_for(lambda cid=cid: tail.acks(cid), 10)
                ack = answer(tail, cid)
                assert (ack.status, ack.requestedShedKw) == ("accepted", kw)


async def test_stop_cancel_start_in_the_past_and_targets(settings, start_sim, bridge, tail, pg_db):
    sim = await start_sim(vens=4)
    a, b, c, d = sorted(sim.vens)
    await seed_vens(pg_db, {a: 3.0, b: 3.0, c: None, d: 1.0})
    async with running_dispatcher(settings):
        now = datetime.now(UTC)
        later = now + timedelta(minutes=5)
        stop = event(now, later, 2, [a], start_now=True)
        cancel = event(now + timedelta(seconds=1.5), later, 2, [b])
        sentinel = event(now + timedelta(seconds=1.6), later, 1, [d])
        past = event(now - timedelta(minutes=1), later, 5, [c, "ven-ghost"])
        await append(settings, stop, cancel, past)
        await append(settings, EventCancelled(eventId=cancel.eventId), sentinel)

        await wait_for(lambda: applied_to(sim, stop.eventId, "event") == {a}, 20)
        await append(settings, EventStopRequested(eventId=stop.eventId))
        [stopped] = await wait_for(lambda: tail.of("EventCompleted", stop.eventId), 20)
        assert stopped.outcome == "stopped"
        await wait_for(lambda: applied_to(sim, stop.eventId, "restore") == {a}, 10)
        assert sim.vens[a].event is None  # given back long before the event's end

        [activated] = await wait_for(lambda: tail.of("EventActivated", past.eventId), 10)
        assert [(x.venId, x.shedKw) for x in activated.allocations] == [(c, 5.0)]
        assert activated.unallocatedKw == 0  # the unknown target's share went to c
        await wait_for(lambda: applied_to(sim, past.eventId, "event") == {c}, 10)
        assert sim.vens[c].event is not None and sim.vens[c].event.event_id == past.eventId

        # The sentinel starts just after the cancelled event would have: once it ran, the
        # cancelled one's start has passed, and nothing was sent for it.
        await wait_for(lambda: applied_to(sim, sentinel.eventId, "event") == {d}, 20)
        assert tail.of("EventActivated", cancel.eventId) == []
        assert tail.of("CommandIssued", cancel.eventId) == []
        assert tail.of("EventCompleted", cancel.eventId) == []
        assert received(sim, b) == 0


async def test_unanswered_command_is_resent_then_times_out(settings_for, start_sim, bridge, tail, pg_db):
    settings = settings_for(dispatcher_ack_timeout_s=1.0, dispatcher_backoff=1.5, dispatcher_max_attempts=3)
    mute = await start_sim(vens=1, prefix="mute-", ack_drop_rate=1.0)  # applies, never answers
    gone = await start_sim(vens=1, prefix="gone-", offline_fraction=1.0)  # never connects
    refusing = await start_sim(vens=1, prefix="no-", reject_rate=1.0)
    fine = await start_sim(vens=1, prefix="ok-")
    [m], [g], [n], [o] = (list(s.vens) for s in (mute, gone, refusing, fine))
    await seed_vens(pg_db, dict.fromkeys([m, g, n, o], 1.0))
    async with running_dispatcher(settings) as runtime:
        now = datetime.now(UTC)
        evt = event(now, now + timedelta(minutes=5), 4, start_now=True)
        await append(settings, evt)
        eid = evt.eventId

        def cid(ven: str) -> str:
            return correlation_id(eid, ven, "event")

        def both_timed_out() -> list:
            timed_out = tail.of("CommandTimedOut", eid)
            return timed_out if len(timed_out) >= 2 else []

        timed_out = await wait_for(both_timed_out, 30, message="no CommandTimedOut")
        assert sorted((t.correlationId, t.attempts) for t in timed_out) == sorted([(cid(m), 3), (cid(g), 3)])
        for ven in (m, g):
            issued = [c for c in tail.of("CommandIssued", eid) if c.venId == ven]
            assert [(c.correlationId, c.attempt) for c in issued] == [
                (cid(ven), 1),
                (cid(ven), 2),
                (cid(ven), 3),
            ]
            gaps = [(later.issuedAt - earlier.issuedAt) for earlier, later in pairwise(issued)]
            assert gaps[0] >= timedelta(seconds=1.0) and gaps[1] >= timedelta(seconds=1.5)  # backoff
        # The VEN that loses its acks got the same correlationId three times and applied it once.
        assert (mute.stats.commands_received, mute.stats.duplicates_answered) == (3, 2)
        assert mute.applied() == {cid(m): 1} and mute.stats.acks_dropped == 3
        assert gone.stats.commands_received == 0
        # A rejection is final: sent once, never re-sent; an accepted command likewise.
        await wait_for(lambda: ack_status(runtime, cid(n)) and ack_status(runtime, cid(o)), 10)
        assert ack_status(runtime, cid(n)) == "rejected" and ack_status(runtime, cid(o)) == "accepted"
        assert [a.status for a in tail.acks(cid(n))] == ["rejected"]
        assert (refusing.stats.commands_received, refusing.applied()) == (1, {})
        assert (fine.stats.commands_received, fine.applied()) == (1, {cid(o): 1})
        once = sorted((c.venId, c.attempt) for c in tail.of("CommandIssued", eid) if c.venId in (n, o))
        assert once == sorted([(n, 1), (o, 1)])


async def test_direct_command_is_sent_once(settings, start_sim, bridge, tail):
    sim = await start_sim(vens=1)
    [ven] = sim.vens
    async with running_dispatcher(settings) as runtime:
        assert REGISTRY.get_sample_value("dispatcher_ready") == 1.0  # the compose healthcheck's gauge
        cid = f"cmd-{ven}-1"
        payload = {"op": "ping", "correlationId": cid, "venId": ven}
        await append(settings, CommandRequested(venId=ven, correlationId=cid, op="ping", payload=payload))
        await wait_for(lambda: ack_status(runtime, cid) == "success", 20, message="ping never answered")
        [issued] = await wait_for(lambda: tail.of("CommandIssued"), 10)
        assert (issued.eventId, issued.payload, issued.attempt) == (None, payload, 1)
        assert sim.applied() == {cid: 1} and sim.stats.commands_received == 1
        await wait_for(lambda: tail.acks(cid), 10)
        ack = answer(tail, cid)
        assert (ack.status, ack.pong) == ("success", True)


async def test_overlap_the_newer_event_keeps_its_ven(settings, start_sim, bridge, tail, pg_db):
    sim = await start_sim(vens=2)
    a, b = sorted(sim.vens)
    await seed_vens(pg_db, {a: 2.0, b: 2.0})
    async with running_dispatcher(settings):
        now = datetime.now(UTC)
        old = event(now, now + timedelta(seconds=3), 4, [a, b], start_now=True)
        new = event(now, now + timedelta(seconds=5), 2, [a], start_now=True)
        await append(settings, old)
        await wait_for(lambda: applied_to(sim, old.eventId, "event") == {a, b}, 20)
        await append(settings, new)
        await wait_for(lambda: applied_to(sim, new.eventId, "event") == {a}, 20)
        await wait_for(lambda: tail.of("EventCompleted", old.eventId), 20)
        await wait_for(lambda: applied_to(sim, old.eventId, "restore") == {b}, 10)
        await wait_for(lambda: tail.of("EventCompleted", new.eventId), 20)
        await wait_for(lambda: applied_to(sim, new.eventId, "restore") == {a}, 10)
        assert applied_to(sim, old.eventId, "restore") == {b}  # the old event never took a back
        restore_cid = correlation_id(new.eventId, a, "restore")
        await wait_for(lambda: tail.acks(restore_cid), 10)
        restored = answer(tail, restore_cid)
        assert (restored.status, restored.eventId) == ("success", new.eventId)
