"""A dependency that does not answer costs a bounded wait and an `Unavailable`, never a hang.

Postgres: `BoundedConnection.wait` (every round trip) against a socket that never becomes
readable, as a frozen server's does. Kafka: `KafkaFactLog` with a publisher that never
acknowledges and a broker whose ping fails. The e2e version: tests/e2e/test_stalls.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Generator, Iterator
from typing import Any

import pytest
from psycopg import pq
from psycopg.waiting import Ready, Wait

from api.adapters.kafka_log import KafkaFactLog
from api.adapters.pg_pool import BoundedConnection
from api.ports import Unavailable
from dr_contracts.facts import VenDeleted, new_fact

pytestmark = pytest.mark.unit


class SilentPgconn:
    """What BoundedConnection uses of libpq's connection: its socket, status and finish()."""

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock.fileno()
        self.status = pq.ConnStatus.OK
        self.finished = False

    def finish(self) -> None:
        self.finished = True
        self.status = pq.ConnStatus.BAD


class Quick(BoundedConnection):
    answer_timeout_s = 0.05


class Patient(BoundedConnection):
    answer_timeout_s = 60


@pytest.fixture
def link() -> Iterator[tuple[Quick, SilentPgconn, socket.socket]]:
    ours, server = socket.socketpair()
    pgconn = SilentPgconn(ours)
    yield Quick(pgconn), pgconn, server  # type: ignore[arg-type]
    pgconn.status = pq.ConnStatus.BAD  # closed: nothing for psycopg's __del__ to warn about
    ours.close()
    server.close()


def one_answer() -> Generator[Wait, Ready | int, str]:
    """A psycopg generator that needs the server to answer once."""
    yield Wait.R
    return "answered"


async def test_a_server_that_does_not_answer_costs_the_bound_and_closes_the_connection(
    link: tuple[Quick, SilentPgconn, socket.socket],
) -> None:
    conn, pgconn, _ = link
    with pytest.raises(Unavailable, match=r"Postgres did not answer within 0\.05 s"):
        await conn.wait(one_answer())
    assert pgconn.finished


async def test_an_answer_in_time_keeps_the_connection(
    link: tuple[Quick, SilentPgconn, socket.socket],
) -> None:
    conn, pgconn, server = link
    server.send(b"x")
    assert await conn.wait(one_answer()) == "answered"
    assert not pgconn.finished


async def test_a_cancelled_wait_closes_the_connection_without_a_cancel_request(
    link: tuple[Quick, SilentPgconn, socket.socket],
) -> None:
    _, pgconn, _ = link
    conn = Patient(pgconn)  # type: ignore[arg-type]
    task = asyncio.create_task(conn.wait(one_answer()))
    await asyncio.sleep(0)  # one turn of the loop: the task starts waiting (not a timed wait)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pgconn.finished


class SilentPublisher:
    async def publish(self, *_: Any, **__: Any) -> Any:
        await asyncio.Event().wait()


class DownBroker:
    async def ping(self, timeout: float) -> bool:  # noqa: ASYNC109 (FastStream's signature)
        return False


async def test_a_write_kafka_does_not_acknowledge_is_unavailable_after_the_bound() -> None:
    fact = new_fact(VenDeleted(venId="v1"))
    log = KafkaFactLog(DownBroker(), {VenDeleted.TOPIC: SilentPublisher()}, answer_timeout_s=0.05)  # type: ignore[arg-type,dict-item]
    with pytest.raises(Unavailable, match=r"Kafka did not acknowledge the write within 0\.05 s"):
        await log.append(fact)
    with pytest.raises(Unavailable, match="Kafka did not answer"):
        await log.ping()
