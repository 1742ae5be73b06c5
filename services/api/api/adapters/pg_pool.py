"""The read-model pool, bounded so that a Postgres that does not answer costs a request 503, not a hang.

Three bounds, each set on purpose (docs/api.md, "When a dependency is down"):

* acquiring a pooled connection waits at most `timeout` (PoolTimeout: 503);
* a new connection gives up after libpq's `connect_timeout`;
* every round trip to the server waits at most `answer_timeout_s` (`BoundedConnection.wait`).

A frozen server (SIGSTOP, a stuck VM) still has its kernel ACK our packets, so TCP
keepalives and `tcp_user_timeout` never fire, and `statement_timeout` is the server's own
clock, frozen with it: only a client-side bound on each wait helps. `asyncio.timeout` around
a query is not enough either: on cancellation psycopg first sends a cancel request and waits
for the query to end (up to 10 s against a frozen server) before the request may answer.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from psycopg import AsyncConnection, waiting
from psycopg.abc import RV, PQGen
from psycopg.rows import DictRow, dict_row

from api.adapters import Pool
from api.ports import Unavailable
from api.settings import Settings

#: libpq's `connect_timeout` is whole seconds, at least 2.
_CONNECT_TIMEOUT_S = 2


class BoundedConnection(AsyncConnection[DictRow]):
    """A connection whose every wait for the server is bounded; past the bound it is closed.

    psycopg 3 routes every query, fetch, COMMIT and ROLLBACK through `wait`. A connection
    that timed out (or was cancelled) mid-query is in an unknown state: it is closed at once,
    without a cancel request the server would not answer either, and the pool discards it.
    """

    answer_timeout_s: ClassVar[float] = 1.0

    async def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:  # noqa: ASYNC109 (psycopg signature)
        bound = timeout if timeout is not None else self.answer_timeout_s
        try:
            async with asyncio.timeout(bound):
                return await waiting.wait_async(gen, self.pgconn.socket, interval=interval)
        except TimeoutError as exc:
            self.pgconn.finish()
            raise Unavailable(f"Postgres did not answer within {bound:g} s") from exc
        except asyncio.CancelledError:
            self.pgconn.finish()
            raise


def read_model_pool(settings: Settings) -> Pool:
    """The API's pool (not yet open): UTC, autocommit, dict rows, every wait bounded by `pg_timeout_s`.

    JIT is off: a read over an event's 10,000 VENs costs past `jit_above_cost`, and compiling
    it took longer than it saved (the delivery chart of 10,000 VENs x 2 minutes: 490 ms with
    JIT, 330 ms without; docs/api.md#event-tables-and-charts), on every execution."""
    connection_class = type(
        "ReadModelConnection", (BoundedConnection,), {"answer_timeout_s": settings.pg_timeout_s}
    )
    statement_timeout_ms = round(settings.pg_timeout_s * 1000)  # the server stops what we gave up on
    return Pool(
        settings.database_url,
        min_size=settings.pg_pool_min_size,
        max_size=settings.pg_pool_max_size,
        open=False,
        timeout=settings.pg_timeout_s,
        connection_class=connection_class,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": _CONNECT_TIMEOUT_S,
            "options": f"-c TimeZone=UTC -c statement_timeout={statement_timeout_ms} -c jit=off",
        },
    )
