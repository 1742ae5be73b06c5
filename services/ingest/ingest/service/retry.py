"""Which Postgres failures are worth retrying, which mean poison facts, and how long to wait."""

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


def refused(exc: BaseException) -> bool:
    """Postgres refused the facts' content: the same facts fail on every retry, in every replica.

    Exactly SQLSTATE class 22 (DataError: a value out of range, a NUL byte in text, bad JSON,
    also psycopg's own client-side refusal of such values) and class 23 (IntegrityError: NOT
    NULL, CHECK, UNIQUE), minus the transient cases above. Only these may be split down and
    skipped as poison. Everything else is not about one fact: a Python exception (TypeError,
    KeyError...) or ProgrammingError (class 42: undefined column, bad SQL) is a bug in our
    code, InternalError (XX) a broken server; skipping on those would lose every fact, so
    they must stop the projector with its offsets where they are. (A bug in our SQL that
    makes Postgres refuse every value would still look like poison, fact by fact: that
    shows as a burst of `fact.poison` lines and `ingest_poison_facts_total`.)
    """
    return isinstance(exc, psycopg.DataError | psycopg.IntegrityError) and not transient(exc)


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
