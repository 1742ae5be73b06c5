"""Load layouts (the sorted loadIds of a reading) -> their ids in `load_layouts`, cached.

A reading stores its per-load values as arrays in its layout's order and names the layout
by id; most VENs keep their circuits for months, so a layout is looked up once per process.
New layouts are stored in their own transaction before the batch that needs them: a layout
row is immutable and harmless if the batch then fails, so the cache never holds an id that
was rolled back. `rebuild` keeps the table for the same reason (processes keep their cache).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from psycopg import AsyncConnection

from ingest.domain.readings import Layout

# DO UPDATE (a no-op) rather than DO NOTHING so that an existing layout returns its id too.
_UPSERT = """
INSERT INTO load_layouts (load_ids, layout_key) VALUES (%b::text[], %b)
ON CONFLICT (layout_key) DO UPDATE SET layout_key = excluded.layout_key
RETURNING layout_id
"""


def layout_key(layout: Layout) -> bytes:
    """The layout's identity in `load_layouts` (as the migration computes it): sha256 of each
    id prefixed with its length in characters, so that no two layouts share their text."""
    return hashlib.sha256("".join(f"{len(i)}:{i}" for i in layout).encode()).digest()


class LoadLayouts:
    """One process's layout ids."""

    def __init__(self) -> None:
        self.ids: dict[Layout, int] = {}

    async def ensure(self, conn: AsyncConnection, layouts: Iterable[Layout]) -> None:
        """Know the id of every one of `layouts` (storing the new ones, committed)."""
        missing = sorted(set(layouts) - self.ids.keys())
        for layout in missing:
            async with conn.transaction():
                cursor = await conn.execute(_UPSERT, [list(layout), layout_key(layout)])
                row = await cursor.fetchone()
            assert row is not None  # RETURNING always answers for an upsert
            self.ids[layout] = row[0]
