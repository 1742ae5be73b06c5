"""Read-your-writes waiting, against a stand-in for the projection_offsets table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from api.adapters.projection_watch import PgProjectionWatch
from api.ports import Position
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.unit


class _Cursor:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    async def fetchall(self) -> list[dict[str, Any]]:
        return self.rows


Offsets = dict[tuple[str, int], int]


class OffsetsTable:
    """What `SELECT topic, partition, next_offset FROM projection_offsets` would answer:
    the offsets in `script`, one entry per query, then `next`."""

    def __init__(self) -> None:
        self.next: Offsets = {}
        self.script: list[Offsets] = []
        self.queries = 0

    async def execute(self, query: str, params: tuple[Any, ...], prepare: bool) -> _Cursor:
        assert params == ("projector",)
        offsets = self.script[self.queries] if self.queries < len(self.script) else self.next
        self.queries += 1
        return _Cursor([{"topic": t, "partition": p, "next_offset": n} for (t, p), n in offsets.items()])

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[OffsetsTable]:
        yield self


@pytest.fixture
def table() -> OffsetsTable:
    return OffsetsTable()


@pytest.fixture
async def watch(table: OffsetsTable) -> AsyncIterator[PgProjectionWatch]:
    w = PgProjectionWatch(table, "projector", poll_s=0.001)  # type: ignore[arg-type]
    yield w
    await w.close()


async def test_wakes_only_once_the_offset_is_passed(table: OffsetsTable, watch: PgProjectionWatch) -> None:
    table.script = [{("dr.events", 1): 7}] * 3  # three polls: offset 7 not applied yet (next is 7)
    table.next = {("dr.events", 1): 8}
    assert await watch.wait_past(Position("dr.events", 1, 7), timeout=30)
    assert table.queries > len(table.script)  # still waiting through the polls that showed 7


def polling() -> bool:
    return any(task.get_name() == "projection-watch" for task in asyncio.all_tasks())


async def test_times_out_and_stops_polling(table: OffsetsTable, watch: PgProjectionWatch) -> None:
    assert not await watch.wait_past(Position("dr.events", 0, 0), timeout=0.05)
    await wait_for(lambda: not polling(), message="no waiter left, yet the poller still runs")


async def test_many_waiters_share_one_poll(table: OffsetsTable, watch: PgProjectionWatch) -> None:
    table.next = {("a", 0): 100, ("b", 3): 5}
    results = await asyncio.gather(
        *(
            watch.wait_past(Position(t, p, o), timeout=5)
            for t, p, o in [("a", 0, 10), ("a", 0, 99), ("b", 3, 4)]
        )
    )
    assert results == [True, True, True]
    assert table.queries == 1
