"""The dispatcher service against fakes: decisions, fan-out, retries, restarts, overlap."""

from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from dispatcher.domain.retry import RetryPolicy
from dispatcher.service.dispatcher import Dispatcher
from dr_contracts.facts import (
    Allocation,
    CommandRequested,
    EventActivated,
    EventCancelled,
    EventCreated,
    EventStopRequested,
)
from dr_contracts.ids import correlation_id
from dr_contracts.topics import MqttTopics
from tests.unit.dispatcher.fakes import T0, FakeClock, FakeFactLog, FakeSink, FakeVens

pytestmark = pytest.mark.unit

P = 1  # the dr.events partition of every test event
START, END = T0 + timedelta(minutes=10), T0 + timedelta(minutes=70)


@pytest.fixture
def world():
    clock, log, sink = FakeClock(), FakeFactLog(), FakeSink()
    vens = FakeVens({"v1": 2.0, "v2": 4.0, "v3": None})
    d = Dispatcher(
        facts=log,
        sink=sink,
        vens=vens,
        clock=clock,
        mqtt_topics=MqttTopics("r/"),
        policy=RetryPolicy(ack_timeout_s=5, max_attempts=3, backoff=2),
    )
    return d, clock, log, sink, vens


def created(eid="evt-1", start=START, end=END, kw=6.0, ven_ids=None, start_now=False):
    return EventCreated(
        eventId=eid, startTime=start, endTime=end, requestedReductionKw=kw, venIds=ven_ids, startNow=start_now
    )


async def start_event(d, clock, *facts):
    for fact in facts:
        d.on_event_fact(fact, P)
    d.events_assigned({P})
    clock.now = START
    d.reconcile(facts[0].eventId)
    await d.settle()


async def test_scheduled_event_waits_then_activates_with_allocation(world):
    d, clock, log, sink, vens = world
    d.on_event_fact(created(ven_ids=["v1", "v2", "ghost"]), P)
    d.events_assigned({P})
    await d.settle()
    assert d.timers.next_due() == START.timestamp() and sink.published == []
    clock.now = START
    d.reconcile("evt-1")
    await d.settle()
    [activated] = log.of_type("EventActivated")
    assert activated.factId == "evt-1:activated"
    assert {a.venId: a.shedKw for a in activated.payload.allocations} == {"v1": 2.0, "v2": 4.0}
    assert activated.payload.unallocatedKw == 0
    assert vens.queries == 1
    topics = sorted(t for t, _ in sink.published)
    assert topics == ["r/ven/cmd/v1", "r/ven/cmd/v2"]
    cmd = dict(sink.published)["r/ven/cmd/v2"]
    assert cmd["correlationId"] == correlation_id("evt-1", "v2", "event")
    assert cmd["shed_kw"] == 4.0 and cmd["duration_sec"] == 3600 and cmd["event_id"] == "evt-1"
    assert cmd["data"] == {
        "event_id": "evt-1",
        "requestedReductionKw": 4.0,
        "duration_s": 3600,
        "start_ts": int(START.timestamp()),
        "end_ts": int(END.timestamp()),
    }
    issued = log.of_type("CommandIssued")
    assert {f.payload.attempt for f in issued} == {1} and len(issued) == 2
    assert d.timers.next_due() == END.timestamp()


async def test_an_event_that_finds_no_ven_online_says_so(world):
    d, clock, log, sink, vens = world
    vens.online = []  # e.g. the telemetry projection is minutes behind: every VEN looks offline
    with capture_logs() as logs:
        await start_event(d, clock, created())
    [activated] = log.of_type("EventActivated")
    assert activated.payload.allocations == [] and activated.payload.unallocatedKw == 6.0
    assert sink.published == []
    [warning] = [e for e in logs if e["event"] == "event.no_vens_online"]
    assert warning["log_level"] == "warning" and warning["event_id"] == "evt-1", warning


async def test_the_vens_are_chosen_before_the_start_and_commanded_at_it(world):
    d, clock, log, sink, vens = world
    d.prepare_lead = timedelta(seconds=2)
    d.on_event_fact(created(), P)
    d.events_assigned({P})
    await d.settle()
    assert d.timers.next_due() == (START - timedelta(seconds=2)).timestamp()
    clock.now = START - timedelta(seconds=2)
    d.reconcile("evt-1")
    await d.settle()
    assert vens.queries == 1 and log.facts == [] and sink.published == []
    assert d.timers.next_due() == START.timestamp()
    vens.registered["v4"] = 9.0  # joins after the choice: not part of this event
    clock.now = START + timedelta(milliseconds=40)
    d.reconcile("evt-1")
    await d.settle()
    [activated] = log.of_type("EventActivated")
    assert activated.payload.activatedAt == START  # the shed window is the planned one
    assert vens.queries == 1 and sorted(a.venId for a in activated.payload.allocations) == ["v1", "v2", "v3"]
    assert sorted(t for t, _ in sink.published) == ["r/ven/cmd/v1", "r/ven/cmd/v2", "r/ven/cmd/v3"]
    assert {p["data"]["start_ts"] for _, p in sink.published} == {int(START.timestamp())}
    assert d.timers.next_due() == END.timestamp() and not d._prepared


async def test_a_prepared_event_cancelled_before_its_start_sends_nothing(world):
    d, clock, log, sink, vens = world
    d.prepare_lead = timedelta(seconds=2)
    d.on_event_fact(created(), P)
    d.events_assigned({P})
    clock.now = START - timedelta(seconds=1)
    d.reconcile("evt-1")
    await d.settle()
    assert vens.queries == 1 and d._prepared
    d.on_event_fact(EventCancelled(eventId="evt-1"), P)
    await d.settle()
    clock.now = START
    d.reconcile("evt-1")
    await d.settle()
    assert sink.published == [] and log.facts == [] and not d._prepared and len(d.timers) == 0


async def test_end_restores_every_ven_then_completes(world):
    d, clock, log, sink, _ = world
    await start_event(d, clock, created())
    clock.now = END
    d.reconcile("evt-1")
    await d.settle()
    restores = sink.ops("restore")
    assert sorted(r["venId"] for r in restores) == ["v1", "v2", "v3"]
    assert restores[0]["correlationId"] == correlation_id("evt-1", restores[0]["venId"], "restore")
    [done] = log.of_type("EventCompleted")
    assert done.payload.outcome == "completed" and d.book["evt-1"].status == "completed"
    assert "evt-1" not in d.timers


async def test_stop_restores_early(world):
    d, clock, log, sink, _ = world
    await start_event(d, clock, created())
    d.on_event_fact(EventStopRequested(eventId="evt-1"), P)
    await d.settle()
    assert len(sink.ops("restore")) == 3
    assert log.of_type("EventCompleted")[0].payload.outcome == "stopped"


async def test_cancel_before_start_sends_nothing(world):
    d, clock, log, sink, vens = world
    d.on_event_fact(created(), P)
    d.events_assigned({P})
    d.on_event_fact(EventCancelled(eventId="evt-1"), P)
    await d.settle()
    clock.now = END
    d.reconcile("evt-1")
    await d.settle()
    assert sink.published == [] and log.facts == [] and vens.queries == 0
    assert len(d.timers) == 0


async def test_start_now_and_start_in_the_past_activate_at_once(world):
    d, _clock, log, sink, _ = world
    d.events_assigned({P})
    d.on_event_fact(created("evt-a", start_now=True, ven_ids=["v1"]), P)
    d.on_event_fact(created("evt-b", start=T0 - timedelta(minutes=5), ven_ids=["v2"]), P)
    await d.settle()
    assert {f.payload.eventId for f in log.of_type("EventActivated")} == {"evt-a", "evt-b"}
    now_cmd = next(p for _, p in sink.published if p["eventId"] == "evt-a")
    assert now_cmd["data"]["start_ts"] == int(T0.timestamp())  # sheds from activation, not start
    assert now_cmd["duration_sec"] == 70 * 60


async def test_other_replicas_events_are_left_alone(world):
    d, _clock, log, sink, _ = world
    d.events_assigned({0})
    d.on_event_fact(created(start_now=True), P)
    await d.settle()
    assert log.facts == [] and sink.published == []


async def test_unanswered_command_is_resent_with_the_same_id_then_times_out(world):
    d, clock, log, sink, _ = world
    await start_event(d, clock, created(ven_ids=["v1"]))
    cid = correlation_id("evt-1", "v1", "event")
    for attempt in (2, 3):
        clock.advance(4.9 * 2 ** (attempt - 2))
        await d.sender.retry(d.sender.retries.pop_due())
        assert len(sink.ops("event")) == attempt - 1  # not yet due
        clock.advance(0.2 * 2 ** (attempt - 2))
        await d.sender.retry(d.sender.retries.pop_due())
        assert len(sink.ops("event")) == attempt
    assert {p["correlationId"] for p in sink.ops("event")} == {cid}
    assert [f.payload.attempt for f in log.of_type("CommandIssued")] == [1, 2, 3]
    clock.advance(20)
    await d.sender.retry(d.sender.retries.pop_due())
    [timed_out] = log.of_type("CommandTimedOut")
    assert timed_out.payload.correlationId == cid and timed_out.payload.attempts == 3
    assert len(sink.ops("event")) == 3 and len(d.sender.retries) == 0


async def test_any_ack_ends_the_retries_even_a_rejection(world):
    d, clock, log, sink, _ = world
    await start_event(d, clock, created(ven_ids=["v1", "v2"]))
    d.on_ack(correlation_id("evt-1", "v1", "event"), "v1", "event", "rejected")
    d.on_ack(correlation_id("evt-1", "v2", "event"), "v2", "event", "accepted")
    clock.advance(60)
    await d.sender.retry(d.sender.retries.pop_due())
    assert len(sink.ops("event")) == 2 and log.of_type("CommandTimedOut") == []


async def test_broker_refusal_counts_as_an_attempt_and_is_retried(world):
    d, clock, log, sink, _ = world
    sink.down = {"v1"}
    await start_event(d, clock, created(ven_ids=["v1"]))
    assert [f.payload.attempt for f in log.of_type("CommandIssued")] == [1]  # recorded before the publish
    sink.down = set()
    clock.advance(5)
    await d.sender.retry(d.sender.retries.pop_due())
    assert [f.payload.attempt for f in log.of_type("CommandIssued")] == [1, 2]
    assert len(sink.published) == 2


async def test_restart_resumes_an_interrupted_fan_out_from_the_log(world):
    d, clock, log, sink, _ = world
    clock.now = START + timedelta(seconds=2)
    activation = EventActivated(
        eventId="evt-1",
        activatedAt=START,
        allocations=[Allocation(venId=v, shedKw=2) for v in ("v1", "v2", "v3")],
    )
    d.on_event_fact(created(), P)
    d.on_event_fact(activation, P)
    for ven in ("v1", "v2"):  # issued before the crash; v1 answered
        cid = correlation_id("evt-1", ven, "event")
        d.on_command_issued(
            cid, ven, "event", "evt-1", {"op": "event", "venId": ven, "correlationId": cid}, START, 1, 0
        )
    d.on_ack(correlation_id("evt-1", "v1", "event"), "v1", "event", "accepted")
    d.events_assigned({P})
    await d.settle()
    assert [p["venId"] for p in sink.ops("event")] == ["v3"]
    assert log.of_type("EventActivated") == []  # not started twice
    clock.now = START + timedelta(seconds=5)
    await d.sender.retry(d.sender.retries.pop_due())
    assert [p["venId"] for p in sink.ops("event")] == ["v3", "v2"]


async def test_restart_after_the_end_sends_the_restores(world):
    d, clock, log, sink, _ = world
    clock.now = END + timedelta(minutes=3)
    d.on_event_fact(created(), P)
    d.on_event_fact(
        EventActivated(eventId="evt-1", activatedAt=START, allocations=[Allocation(venId="v1", shedKw=2)]), P
    )
    d.events_assigned({P})
    await d.settle()
    assert [p["op"] for _, p in sink.published] == ["restore"]
    assert log.of_type("EventCompleted")[0].payload.outcome == "completed"


async def test_a_newer_event_keeps_its_ven_when_an_older_one_ends(world):
    d, clock, _log, sink, _ = world
    await start_event(d, clock, created("evt-old", ven_ids=["v1", "v2"], end=END))
    clock.advance(60)
    d.on_event_fact(created("evt-new", ven_ids=["v1"], start_now=True, end=END + timedelta(hours=1)), P)
    await d.settle()
    assert [p["venId"] for p in sink.ops("event") if p["eventId"] == "evt-new"] == ["v1"]
    clock.advance(10)  # evt-old's unanswered command to v1 must not replace evt-new
    await d.sender.retry(d.sender.retries.pop_due())
    assert [p["venId"] for p in sink.ops("event") if p["eventId"] == "evt-old"] == ["v1", "v2", "v2"]
    clock.now = END
    d.reconcile("evt-old")
    await d.settle()
    assert [p["venId"] for p in sink.ops("restore")] == ["v2"]
    clock.now = END + timedelta(hours=1)
    d.reconcile("evt-new")
    await d.settle()
    assert [(p["venId"], p["eventId"]) for p in sink.ops("restore")] == [("v2", "evt-old"), ("v1", "evt-new")]


async def test_direct_command_is_sent_by_the_owner_of_its_partition(world):
    d, _clock, log, sink, _ = world
    payload = {"op": "ping", "correlationId": "cmd-v1-1", "venId": "v1"}
    d.direct_assigned({3})
    d.on_command_requested(
        CommandRequested(venId="v1", correlationId="cmd-v1-1", op="ping", payload=payload), partition=3
    )
    d.on_command_requested(
        CommandRequested(venId="v2", correlationId="cmd-v2-1", op="ping", payload=payload | {"venId": "v2"}),
        partition=4,
    )
    await d.settle()
    assert sink.published == [("r/ven/cmd/v1", payload)]
    [issued] = log.of_type("CommandIssued")
    assert issued.payload.eventId is None and issued.factId == "cmd-v1-1:1"
    d.direct_assigned({4})
    await d.settle()
    assert [p["venId"] for _, p in sink.published] == ["v1", "v2"]


async def test_a_failed_step_is_decided_again_later(world):
    d, clock, log, sink, _ = world
    log.fail = True
    await start_event(d, clock, created())
    assert sink.published == [] and "evt-1" in d.timers
    log.fail = False
    clock.advance(1)
    for eid in d.timers.pop_due():
        d.reconcile(eid)
    await d.settle()
    assert len(log.of_type("EventActivated")) == 1 and len(sink.ops("event")) == 3


async def test_revoke_drops_timers_and_ownership(world):
    d, clock, _log, sink, _ = world
    d.on_event_fact(created(), P)
    d.events_assigned({P})
    await d.settle()
    await d.events_revoked({P})
    assert len(d.timers) == 0
    clock.now = START
    d.reconcile("evt-1")
    await d.settle()
    assert sink.published == []


async def test_every_command_that_may_reach_a_ven_is_in_the_log_first(world):
    """Write-ahead: a publisher that dies mid fan-out leaves no sent command unrecorded."""
    d, clock, log, sink, _ = world

    async def dies_after_sending(messages):
        await FakeSink.publish_many(sink, messages)
        raise ConnectionResetError("killed mid publish")

    sink.publish_many = dies_after_sending
    await start_event(d, clock, created())
    sent = {p["correlationId"] for _, p in sink.published}
    assert len(sent) == 3
    assert {f.payload.correlationId for f in log.of_type("CommandIssued")} == sent


async def test_a_refused_record_sends_nothing_and_is_tried_again(world):
    """Kafka down while recording: no publish, no lost command (re-send, give-up, direct)."""
    d, clock, log, sink, _ = world
    await start_event(d, clock, created(ven_ids=["v1"]))
    cid = correlation_id("evt-1", "v1", "event")
    log.fail = True
    clock.advance(5)
    with pytest.raises(ConnectionError):
        await d.sender.retry(d.sender.retries.pop_due())
    assert len(sink.ops("event")) == 1  # the re-send was not published unrecorded
    log.fail = False
    clock.advance(1)
    await d.sender.retry(d.sender.retries.pop_due())
    assert [f.payload.attempt for f in log.of_type("CommandIssued")] == [1, 2]
    assert len(sink.ops("event")) == 2

    clock.advance(10)  # attempt 2 unanswered: one more
    await d.sender.retry(d.sender.retries.pop_due())
    clock.advance(20)  # attempt 3 unanswered: give up, but Kafka is down
    log.fail = True
    with pytest.raises(ConnectionError):
        await d.sender.retry(d.sender.retries.pop_due())
    assert not d.ledger.get(cid).settled
    log.fail = False
    clock.advance(1)
    await d.sender.retry(d.sender.retries.pop_due())
    [timed_out] = log.of_type("CommandTimedOut")
    assert timed_out.payload.correlationId == cid and d.ledger.get(cid).settled

    d.direct_assigned({3})
    log.fail = True
    payload = {"op": "ping", "correlationId": "cmd-v1-1", "venId": "v1"}
    d.on_command_requested(
        CommandRequested(venId="v1", correlationId="cmd-v1-1", op="ping", payload=payload), 3
    )
    await d.settle()
    assert sink.ops("ping") == []
    log.fail = False
    clock.advance(1)
    await d.sender.retry(d.sender.retries.pop_due())
    assert (
        sink.ops("ping") == [payload] and log.of_type("CommandIssued")[-1].payload.correlationId == "cmd-v1-1"
    )
