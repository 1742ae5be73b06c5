"""Load layouts (the sorted loadIds of a reading) -> their ids in `load_layouts`, cached.

A reading stores its per-load values as arrays in its layout's order and names the layout
by id; most VENs keep their circuits for months, so a layout is looked up once per process.
New layouts are stored in their own transaction before the batch that needs them: a layout
row is immutable and harmless if the batch then fails, so the cache never holds an id that
was rolled back. `rebuild` keeps the table for the same reason (processes keep their cache).
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import AsyncConnection

from ingest.domain.readings import Layout

# DO UPDATE (a no-op) rather than DO NOTHING so that an existing layout returns its id too.
_UPSERT = """
INSERT INTO load_layouts (load_ids) VALUES (%b::text[])
ON CONFLICT (load_ids) DO UPDATE SET load_ids = excluded.load_ids
RETURNING layout_id
"""


class LoadLayouts:
    """One process's layout ids."""

    def __init__(self) -> None:
        self.ids: dict[Layout, int] = {}

    async def ensure(self, conn: AsyncConnection, layouts: Iterable[Layout]) -> None:
        """Know the id of every one of `layouts` (storing the new ones, committed)."""
        missing = sorted(set(layouts) - self.ids.keys())
        for layout in missing:
            async with conn.transaction():
                cursor = await conn.execute(_UPSERT, [list(layout)])
                row = await cursor.fetchone()
            assert row is not None  # RETURNING always answers for an upsert
            self.ids[layout] = row[0]
