import asyncio
from datetime import timedelta

import pytest

from dispatcher.domain.overlap import ActivationIndex
from dispatcher.domain.retry import RetryPolicy
from dispatcher.service.scheduler import DueQueue
from dr_contracts.facts import Allocation, EventActivated
from tests.fixtures.waiting import wait_for
from tests.unit.dispatcher.fakes import T0

pytestmark = pytest.mark.unit


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(ack_timeout_s=2, max_attempts=5, backoff=3, max_wait_s=10)
    assert [policy.wait_s(n) for n in (1, 2, 3)] == [2, 6, 10]
    assert policy.deadline(T0, 2) == T0 + timedelta(seconds=6)
    assert not policy.exhausted(4) and policy.exhausted(5)


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(ack_timeout_s=0)


def test_due_queue_pops_in_order_and_moves_keys():
    now = [100.0]
    q: DueQueue[str] = DueQueue(lambda: now[0])
    q.put("b", 102)
    q.put("a", 101)
    q.put("c", 105)
    q.put("c", 103)  # moved earlier
    q.discard("b")
    assert q.pop_due() == []
    now[0] = 103
    assert q.pop_due() == ["a", "c"]
    assert len(q) == 0 and q.next_due() is None


class ReadCountingClock:
    """A fixed time that counts its reads: `due()` reads it once to pop, once for its delay."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


async def test_due_queue_wakes_for_an_earlier_key():
    clock = ReadCountingClock(100.0)
    q: DueQueue[str] = DueQueue(clock)
    q.put("late", clock.now + 3600)
    waiter = asyncio.create_task(q.due())
    # Having read the time for its delay, the waiter awaits its wake-up with no await between.
    await wait_for(lambda: clock.reads >= 2, message="due() never computed its delay")
    assert not waiter.done()
    q.put("now", clock.now)
    assert await asyncio.wait_for(waiter, 30) == ["now"]


def test_latest_activation_owns_the_ven():
    def act(eid, minute, vens):
        return EventActivated(
            eventId=eid,
            activatedAt=T0 + timedelta(minutes=minute),
            allocations=[Allocation(venId=v, shedKw=1) for v in vens],
        )

    index = ActivationIndex()
    index.add(act("new", 5, ["v1"]))
    index.add(act("old", 1, ["v1", "v2"]))  # read later, activated earlier
    assert index.owns("v1", "new") and not index.owns("v1", "old")
    assert index.owns("v2", "old")
    assert not index.owns("v3", "old")
