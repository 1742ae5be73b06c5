"""Load layouts (the sorted loadIds of a reading) -> their ids in `load_layouts`, cached.

A reading stores its per-load values as arrays in its layout's order and names the layout
by id; most VENs keep their circuits for months, so a layout is looked up once per process,
and the new ones of a batch together (a fresh projector meets every VEN's at once).
New layouts are stored in their own transaction before the batch that needs them: a layout
row is immutable and harmless if the batch then fails, so the cache never holds an id that
was rolled back. `rebuild` keeps the table for the same reason (processes keep their cache).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from psycopg import AsyncConnection

from ingest.adapters.pg_writes import jsonb
from ingest.domain.readings import Layout

# Every new layout of a batch in one statement (ids travel as JSON arrays: a text[] per row
# would be a 2-D array), then their ids, old or new, in a second one.
_INSERT = """
INSERT INTO load_layouts (load_ids, layout_key)
SELECT ARRAY(SELECT i FROM jsonb_array_elements_text(n.ids) WITH ORDINALITY AS e(i, o) ORDER BY o),
       n.key
FROM unnest(%b::jsonb[], %b::bytea[]) AS n(ids, key)
ORDER BY n.key
ON CONFLICT (layout_key) DO NOTHING
"""
_IDS = "SELECT layout_key, layout_id FROM load_layouts WHERE layout_key = ANY(%b::bytea[])"


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
        missing = {layout_key(layout): layout for layout in set(layouts) - self.ids.keys()}
        if not missing:
            return
        keys = sorted(missing)
        async with conn.transaction():
            await conn.execute(_INSERT, [[jsonb(list(missing[k])) for k in keys], keys])
            cursor = await conn.execute(_IDS, [keys])
            found = await cursor.fetchall()
        self.ids |= {missing[bytes(key)]: layout_id for key, layout_id in found}
