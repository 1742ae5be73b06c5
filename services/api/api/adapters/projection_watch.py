"""Read-your-writes: wait until the projector's stored offset has passed a produced fact.

One poller per process reads every stored offset of the projector group in one query,
only while some request is waiting, and wakes each waiter whose fact is now projected.
"""

from __future__ import annotations

import asyncio
import contextlib

from api.adapters import Pool
from api.ports import Position
from dr_runtime.outage import Outage

_OFFSETS = "SELECT topic, partition, next_offset FROM projection_offsets WHERE group_id = %s"


class PgProjectionWatch:
    """Polls `projection_offsets` every `poll_s` while there are waiters."""

    def __init__(self, pool: Pool, group_id: str, poll_s: float) -> None:
        self._pool = pool
        self._group_id = group_id
        self._poll_s = poll_s
        self._next: dict[tuple[str, int], int] = {}
        self._waiters: list[tuple[Position, asyncio.Future[None]]] = []
        self._poller: asyncio.Task[None] | None = None
        self._outage = Outage("postgres", "projection-watch")

    def _passed(self, position: Position) -> bool:
        return self._next.get((position.topic, position.partition), -1) > position.offset

    async def wait_past(self, position: Position, timeout: float) -> bool:  # noqa: ASYNC109
        """True once the fact at `position` is in the read model; False after `timeout`."""
        if self._passed(position):
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (position, waiter)
        self._waiters.append(entry)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="projection-watch")
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    async def _poll(self) -> None:
        while self._waiters:
            try:
                await self._refresh()
            except Exception as exc:  # a failed poll only delays the waiters (they time out)
                self._outage.failed(exc)
            else:
                self._outage.recovered()
            for position, waiter in self._waiters:
                if not waiter.done() and self._passed(position):
                    waiter.set_result(None)
            await asyncio.sleep(self._poll_s)

    async def _refresh(self) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(_OFFSETS, (self._group_id,), prepare=True)
            for row in await cur.fetchall():
                topic, partition, next_offset = (row["topic"], row["partition"], row["next_offset"])
                self._next[(topic, partition)] = next_offset

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
