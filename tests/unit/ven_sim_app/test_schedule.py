"""One heap schedules every VEN: phases spread the first readings, stale entries are skipped."""

from __future__ import annotations

import pytest

from ven_sim.fleet import build_fleet
from ven_sim.schedule import Schedule, next_due

pytestmark = pytest.mark.unit


def test_first_readings_are_spread_over_one_interval_in_due_order() -> None:
    nodes = build_fleet([f"v{i}" for i in range(200)], seed=1, ack_shape="A", interval_s=5.0)
    schedule = Schedule(nodes)
    schedule.start(100.0, 5.0)
    due = schedule.pop_due(105.0, limit=1000)
    times = [t for t, _ in due]
    assert len(due) == 200 and times == sorted(times)
    assert 100.0 <= times[0] and times[-1] < 105.0
    assert times[-1] - times[0] > 4.0  # jitter: not in lockstep


def test_offline_vens_are_never_scheduled() -> None:
    nodes = build_fleet(["a", "b"], seed=1, ack_shape="A", interval_s=5.0, offline={"b"})
    schedule = Schedule(nodes)
    schedule.start(0.0, 5.0)
    assert [n.ven_id for _, n in schedule.pop_due(10.0, 10)] == ["a"]


def test_pop_respects_the_limit_and_the_clock() -> None:
    nodes = build_fleet([f"v{i}" for i in range(10)], seed=1, ack_shape="A", interval_s=5.0)
    schedule = Schedule(nodes)
    for n in nodes:
        schedule.set(n, float(n.index))
    assert [n.index for _, n in schedule.pop_due(4.5, limit=3)] == [0, 1, 2]
    assert [n.index for _, n in schedule.pop_due(4.5, limit=3)] == [3, 4]
    assert schedule.next_time() == 5.0


def test_a_moved_reading_leaves_its_old_entry_stale() -> None:
    (node,) = build_fleet(["v"], seed=1, ack_shape="A", interval_s=5.0)
    schedule = Schedule([node])
    schedule.set(node, 10.0)
    schedule.set(node, 3.0)
    assert schedule.pop_due(20.0, 10) == [(3.0, node)]


def test_next_due_stays_on_the_grid_and_skips_slots_missed_by_a_full_interval() -> None:
    assert next_due(10.0, 5.0, now=10.2) == (15.0, 0)
    assert next_due(10.0, 5.0, now=19.0) == (15.0, 0)  # late, but catches up
    nxt, missed = next_due(10.0, 5.0, now=31.0)
    assert (nxt, missed) == (30.0, 3)  # 15, 20 and 25 are over an interval late: skipped
