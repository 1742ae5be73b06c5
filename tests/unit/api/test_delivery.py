"""The buckets of an event's delivery chart: the default step and the first bucket asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.domain.delivery import MAX_STEP_S, MIN_STEP_S, Buckets, buckets, default_step

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("span", "interval_s", "step"),
    [
        (timedelta(minutes=2), 5, 10),  # two report intervals: a reading of every VEN in each
        (timedelta(minutes=2), 10, 20),
        (timedelta(minutes=2), 2.5, MIN_STEP_S),
        (timedelta(minutes=2), 1, MIN_STEP_S),  # never under 5 s
        (timedelta(hours=1), 5, 10),  # exactly 360 buckets of 10 s
        (timedelta(hours=1, seconds=1), 5, 11),
        (timedelta(hours=2), 5, 20),
        (timedelta(days=7), 5, 1680),  # the longest event
        (timedelta(days=20), 5, MAX_STEP_S),
        (timedelta(days=7), 3600, MAX_STEP_S),  # however slow the VENs
        (timedelta(0), 5, 10),
        (timedelta(minutes=-5), 5, 10),  # cancelled before its start
    ],
)
def test_default_step_keeps_a_window_to_360_buckets_and_every_ven_in_each(
    span: timedelta, interval_s: float, step: int
) -> None:
    assert default_step(span, interval_s) == step


def _buckets(
    activated: datetime | None = None,
    ended: datetime | None = None,
    step_s: int | None = None,
    start: datetime | None = None,
    before: datetime | None = None,
    now: datetime = T0 + timedelta(days=1),
) -> Buckets:
    """Buckets of an event planned for [T0, T0 + 1 h), by default long over and settled."""
    end = T0 + timedelta(hours=1)
    return buckets(
        start_time=T0,
        activated_at=activated,
        end_time=end,
        ended_at=ended,
        step_s=step_s,
        start=start,
        now=now,
        before=before,
    )


def test_the_window_runs_from_activation_else_start_to_its_end_else_end_time() -> None:
    hour = T0 + timedelta(hours=1)
    assert _buckets() == Buckets(T0, timedelta(seconds=10), T0, hour, hour)
    late = T0 + timedelta(seconds=7)
    stopped = T0 + timedelta(minutes=2)
    assert _buckets(activated=late, ended=stopped) == Buckets(
        late, timedelta(seconds=10), late, stopped, stopped
    )


def test_the_slowest_vens_interval_sets_the_shortest_step_and_the_settling_time() -> None:
    slow = buckets(
        start_time=T0,
        activated_at=None,
        end_time=T0 + timedelta(minutes=2),
        ended_at=None,
        step_s=None,
        start=None,
        now=T0 + timedelta(seconds=100),
        report_interval_s=30,
    )
    # 60 s buckets; readings stamped before 70 s have all arrived: only [0, 60 s) is final
    minute = T0 + timedelta(seconds=60)
    assert (slow.step, slow.end, slow.settled_until) == (timedelta(seconds=60), minute, minute)


@pytest.mark.parametrize(
    ("now_s", "settled_s"),
    [(0, 0), (14, 0), (15, 10), (37, 30), (3604, 3590), (3605, 3600), (9999, 3600)],
)
def test_a_bucket_is_final_a_report_interval_after_it_ended(now_s: int, settled_s: int) -> None:
    """10 s buckets of VENs reporting every 5 s (the default): [t, t + 10) is final at t + 15."""
    part = _buckets(now=T0 + timedelta(seconds=now_s))
    assert part.settled_until == part.end == T0 + timedelta(seconds=settled_s)


@pytest.mark.parametrize(
    ("start_s", "first_s"),
    [(-30, 0), (0, 0), (1, 10), (10, 10), (10.5, 20), (19.999, 20), (7200, 7200)],
)
def test_start_keeps_the_buckets_that_start_at_or_after_it(start_s: float, first_s: int) -> None:
    """Buckets stay aligned on the window's start whatever `start` is (10 s buckets here)."""
    first = _buckets(start=T0 + timedelta(seconds=start_s)).first
    assert first == T0 + timedelta(seconds=first_s)


@pytest.mark.parametrize(
    ("end_s", "stop_s"),
    [(-30, 0), (0, 0), (1, 10), (10, 10), (10.5, 20), (3599, 3600), (7200, 3600)],
)
def test_end_keeps_the_buckets_that_start_before_it_whole(end_s: float, stop_s: int) -> None:
    """A slice [start, end) of a long chart: readings up to the end of its last bucket."""
    assert _buckets(before=T0 + timedelta(seconds=end_s)).end == T0 + timedelta(seconds=stop_s)


def test_a_slice_between_start_and_end() -> None:
    part = _buckets(start=T0 + timedelta(seconds=60), before=T0 + timedelta(seconds=120))
    assert (part.first, part.end) == (T0 + timedelta(seconds=60), T0 + timedelta(seconds=120))
