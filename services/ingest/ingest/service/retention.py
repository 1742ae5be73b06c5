"""The projector's retention duty: now and then, drop telemetry partitions past their horizon."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import psycopg
import structlog

from ingest.adapters.pg_retention import drop_expired
from ingest.settings import Settings

log = structlog.get_logger(__name__)


async def apply_retention(settings: Settings) -> list[str]:
    """One pass (`python -m ingest retention`, and each round of `keep_retention`)."""
    return await drop_expired(settings.database_url, settings.retention_days, datetime.now(UTC).date())


async def keep_retention(settings: Settings, stop: asyncio.Event) -> None:
    """A pass every TELEMETRY_RETENTION_EVERY_S until stopped; a failed pass waits for the next."""
    every = settings.telemetry_retention_every_s
    if every <= 0:
        return
    while not stop.is_set():
        try:
            await apply_retention(settings)
        except (psycopg.Error, OSError) as exc:  # Postgres away: the projector says so itself
            log.warning("retention.failed", error=repr(exc)[:300])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
