"""Which Postgres failures are worth retrying, and how long to wait between tries."""

from __future__ import annotations

import asyncio

import psycopg
from psycopg import errors
from psycopg_pool import PoolTimeout


class Stopping(Exception):
    """The worker was asked to stop while it waited for a dependency to come back."""


def transient(exc: BaseException) -> bool:
    """Connection loss, deadlock, a replica racing for the same partition: try again."""
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | PoolTimeout):
        return True
    if isinstance(exc, errors.UniqueViolation):
        return exc.diag.constraint_name == "projection_offsets_pkey"
    return missing_partition(exc)


def missing_partition(exc: BaseException) -> bool:
    """A day partition dropped behind our back (retention): create it and try again."""
    return isinstance(exc, errors.CheckViolation) and "no partition" in str(exc)


async def pause(attempt: int, stop: asyncio.Event) -> None:
    """Back off (0.1 s doubling to 5 s); raise Stopping if asked to stop meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=min(5.0, 0.1 * 2**attempt))
    except TimeoutError:
        return
    raise Stopping
