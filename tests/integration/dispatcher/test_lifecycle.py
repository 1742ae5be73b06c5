"""One dispatcher against real Tansu, Mosquitto and Postgres, with test VENs answering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.bootstrap import running_dispatcher
from dr_contracts.facts import CommandRequested, EventCancelled, EventCreated, EventStopRequested
from dr_contracts.ids import correlation_id, new_event_id
from tests.fixtures.waiting import wait_for
from tests.integration.dispatcher.support import append, seed_vens

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


async def test_scheduled_event_runs_its_whole_lifecycle(settings, vens, tail, pg_db):
    await seed_vens(pg_db, {"ven-a": 2.0, "ven-b": 6.0, "ven-c": None})
    await seed_vens(pg_db, {"ven-off": 5.0}, online=False)
    async with running_dispatcher(settings):
        now = datetime.now(UTC)
        evt = event(now + timedelta(seconds=1.5), now + timedelta(seconds=3.5), kw=8)
        await append(settings, evt)
        eid = evt.eventId
        await wait_for(lambda: tail.of("EventActivated", eid), 20, message="no activation")
        [activated] = tail.of("EventActivated", eid)
        shares = {a.venId: a for a in activated.allocations}
        assert set(shares) == {"ven-a", "ven-b", "ven-c"}  # ven-off is offline
        assert shares["ven-a"].shedKw <= 2 and shares["ven-a"].capabilityKw == 2
        assert shares["ven-c"].capabilityKw is None
        assert sum(a.shedKw for a in activated.allocations) == pytest.approx(8, abs=0.01)
        assert activated.activatedAt >= evt.startTime - EARLY

        await wait_for(lambda: tail.of("EventCompleted", eid), 20, message="not completed")
        assert tail.of("EventCompleted", eid)[0].outcome == "completed"
        await wait_for(lambda: vens.vens_with("restore", eid) == set(shares), 10)
        for ven, share in shares.items():
            [cmd] = vens.applied_ops(ven, "event")
            assert cmd["correlationId"] == correlation_id(eid, ven, "event")
            assert cmd["shed_kw"] == share.shedKw == cmd["data"]["requestedReductionKw"]
            assert cmd["duration_sec"] == cmd["data"]["duration_s"] == 2
            assert vens.received_at[cmd["correlationId"]] >= evt.startTime - EARLY
            restore_cid = correlation_id(eid, ven, "restore")
            assert vens.received_at[restore_cid] >= evt.endTime - EARLY
        issued = tail.of("CommandIssued", eid)
        assert sorted((c.op, c.venId) for c in issued) == sorted(
            [("event", v) for v in shares] + [("restore", v) for v in shares]
        )


async def test_stop_cancel_start_in_the_past_and_targets(settings, vens, tail, pg_db):
    await seed_vens(pg_db, {"ven-a": 3.0, "ven-b": 3.0, "ven-c": None, "ven-d": 1.0})
    async with running_dispatcher(settings):
        now = datetime.now(UTC)
        later = now + timedelta(minutes=5)
        stop = event(now, later, 2, ["ven-a"], start_now=True)
        cancel = event(now + timedelta(seconds=1.5), later, 2, ["ven-b"])
        sentinel = event(now + timedelta(seconds=1.6), later, 1, ["ven-d"])
        past = event(now - timedelta(minutes=1), later, 5, ["ven-c", "ven-ghost"])
        await append(settings, stop, cancel, past)
        await append(settings, EventCancelled(eventId=cancel.eventId), sentinel)

        await wait_for(lambda: vens.vens_with("event", stop.eventId) == {"ven-a"}, 20)
        await append(settings, EventStopRequested(eventId=stop.eventId))
        await wait_for(lambda: tail.of("EventCompleted", stop.eventId), 20)
        assert tail.of("EventCompleted", stop.eventId)[0].outcome == "stopped"
        await wait_for(lambda: vens.vens_with("restore", stop.eventId) == {"ven-a"}, 10)

        [activated] = await wait_for(lambda: tail.of("EventActivated", past.eventId), 10)
        assert [(a.venId, a.shedKw) for a in activated.allocations] == [("ven-c", 5.0)]
        assert activated.unallocatedKw == 0  # the unknown target's share went to ven-c
        await wait_for(lambda: vens.vens_with("event", past.eventId) == {"ven-c"}, 10)

        await wait_for(lambda: tail.of("EventActivated", sentinel.eventId), 20)
        assert tail.of("EventActivated", cancel.eventId) == []
        assert "ven-b" not in vens.applied and tail.of("EventCompleted", cancel.eventId) == []


async def test_unanswered_command_is_resent_then_times_out(settings_for, vens, tail, pg_db):
    settings = settings_for(dispatcher_ack_timeout_s=0.4, dispatcher_backoff=1.5, dispatcher_max_attempts=3)
    await seed_vens(pg_db, {"ven-mute": 1.0, "ven-no": 1.0, "ven-ok": 1.0})
    vens.silent, vens.rejecting = {"ven-mute"}, {"ven-no"}
    async with running_dispatcher(settings):
        now = datetime.now(UTC)
        evt = event(now, now + timedelta(minutes=5), 3, start_now=True)
        await append(settings, evt)
        cid = correlation_id(evt.eventId, "ven-mute", "event")
        [timed_out] = await wait_for(lambda: tail.of("CommandTimedOut", evt.eventId), 20)
        assert (timed_out.correlationId, timed_out.attempts) == (cid, 3)
        attempts = [
            (c.correlationId, c.attempt)
            for c in tail.of("CommandIssued", evt.eventId)
            if c.venId == "ven-mute"
        ]
        assert attempts == [(cid, 1), (cid, 2), (cid, 3)]
        assert vens.deliveries[cid] == 3
        assert vens.deliveries[correlation_id(evt.eventId, "ven-no", "event")] == 1  # final
        assert vens.deliveries[correlation_id(evt.eventId, "ven-ok", "event")] == 1


async def test_direct_command_is_sent_once(settings, vens, tail):
    async with running_dispatcher(settings):
        payload = {"op": "ping", "correlationId": "cmd-ven-x-1", "venId": "ven-x"}
        await append(
            settings, CommandRequested(venId="ven-x", correlationId="cmd-ven-x-1", op="ping", payload=payload)
        )
        await wait_for(lambda: tail.of("CommandIssued"), 20)
        [issued] = tail.of("CommandIssued")
        assert issued.eventId is None and issued.payload == payload
        assert vens.applied["ven-x"] == {"cmd-ven-x-1": payload}


async def test_overlap_the_newer_event_keeps_its_ven(settings, vens, tail, pg_db):
    await seed_vens(pg_db, {"ven-a": 2.0, "ven-b": 2.0})
    async with running_dispatcher(settings):
        now = datetime.now(UTC)
        old = event(now, now + timedelta(seconds=3), 4, ["ven-a", "ven-b"], start_now=True)
        new = event(now, now + timedelta(seconds=5), 2, ["ven-a"], start_now=True)
        await append(settings, old)
        await wait_for(lambda: tail.of("EventActivated", old.eventId), 20)
        await append(settings, new)
        await wait_for(lambda: tail.of("EventCompleted", old.eventId), 20)
        await wait_for(lambda: vens.vens_with("restore", old.eventId) == {"ven-b"}, 10)
        assert vens.vens_with("event", new.eventId) == {"ven-a"}
        await wait_for(lambda: tail.of("EventCompleted", new.eventId), 20)
        await wait_for(lambda: vens.vens_with("restore", new.eventId) == {"ven-a"}, 10)
        assert vens.vens_with("restore", old.eventId) == {"ven-b"}
