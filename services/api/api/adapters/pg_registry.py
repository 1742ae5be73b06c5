"""Registry lookups on the Postgres read model (what a write checks before appending)."""

from __future__ import annotations

from typing import Any

from psycopg.abc import Params

from api.adapters import Pool, sql
from api.ports import VenRef

_VEN = "SELECT ven_id, source, deleted_at IS NOT NULL AS deleted FROM vens WHERE ven_id = %s"
_LIVE_VENS = "SELECT ven_id FROM vens WHERE ven_id = ANY(%s) AND deleted_at IS NULL"


class PgRegistry:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def _one(self, query: str, params: Params) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params, prepare=True)
            return await cur.fetchone()

    async def event(self, event_id: str) -> dict[str, Any] | None:
        return await self._one(sql.EVENT_BY_ID, {"event": event_id})

    async def ven(self, ven_id: str) -> VenRef | None:
        row = await self._one(_VEN, (ven_id,))
        return None if row is None else VenRef(row["ven_id"], row["source"], row["deleted"])

    async def unknown_vens(self, ven_ids: list[str]) -> list[str]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(_LIVE_VENS, (ven_ids,), prepare=True)
            known = {row["ven_id"] for row in await cur.fetchall()}
        return [v for v in ven_ids if v not in known]

    async def ping(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("SELECT 1")
