"""The VENs an event may use, from the `vens` read model (one query per activation)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg_pool import AsyncConnectionPool

from dispatcher.domain.allocation import Candidate
from dr_contracts.rules import ONLINE_MISSED_INTERVALS, OPENADR_SOURCE

#: Online = a reading within `missed_intervals` report intervals (the shared setting
#: VEN_ONLINE_MISSED_INTERVALS, which the API's read model applies too). An OpenADR VEN reads
#: its events from the facade: it is never sent a command (docs/openadr.md).
_ONLINE = f"""
SELECT ven_id, shed_availability_kw FROM vens
WHERE deleted_at IS NULL AND last_seen >= now() - make_interval(secs => %s * report_interval_s)
  AND source <> '{OPENADR_SOURCE}'
ORDER BY ven_id
"""
_TARGETED = f"""
SELECT ven_id, shed_availability_kw FROM vens
WHERE deleted_at IS NULL AND ven_id = ANY(%s) AND source <> '{OPENADR_SOURCE}'
"""


class PostgresVenDirectory:
    """Reads `vens`: targeted VENs whatever their status, else every online VEN."""

    def __init__(self, dsn: str, missed_intervals: float = ONLINE_MISSED_INTERVALS) -> None:
        self.pool = AsyncConnectionPool(dsn, min_size=1, max_size=2, open=False)
        self.missed_intervals = missed_intervals

    async def start(self) -> None:
        await self.pool.open()

    async def stop(self) -> None:
        await self.pool.close()

    async def candidates(self, ven_ids: Sequence[str] | None) -> tuple[list[Candidate], list[str]]:
        async with self.pool.connection() as conn:
            if ven_ids is None:
                rows = await (await conn.execute(_ONLINE, (self.missed_intervals,))).fetchall()
                return [Candidate(v, kw) for v, kw in rows], []
            wanted = list(dict.fromkeys(ven_ids))
            rows = await (await conn.execute(_TARGETED, (wanted,))).fetchall()
        known: dict[str, float | None] = dict(rows)
        found = [Candidate(v, known[v]) for v in wanted if v in known]
        return found, [v for v in wanted if v not in known]
