"""OpenADR 3 objects (programs, VENs, resources, reports, subscriptions) as rows of `oadr_objects`.

Applied one fact at a time in log order: an object's facts share a partition (key objectId),
and these are written by people, not by fleets, so a batch holds few of them.
"""

from __future__ import annotations

from psycopg import AsyncConnection

from dr_contracts.facts import OadrObjectWritten
from ingest.adapters.pg_writes import jsonb
from ingest.domain.batch import Batch

#: A replaced object keeps its creation time; the fact's time is its modification time.
_WRITE = """
INSERT INTO oadr_objects (object_type, object_id, client_id, body, reads_all, ven_id, created_at, modified_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (object_type, object_id) DO UPDATE SET
    client_id = excluded.client_id, body = excluded.body, reads_all = excluded.reads_all,
    ven_id = excluded.ven_id, modified_at = excluded.modified_at
"""
_DELETE = "DELETE FROM oadr_objects WHERE object_type = %s AND object_id = %s"


async def write_oadr_objects(conn: AsyncConnection, batch: Batch) -> None:
    async with conn.cursor() as cur:
        for fact, at in batch.oadr_objects:
            if isinstance(fact, OadrObjectWritten):
                created = fact.createdAt or at
                row = (
                    fact.objectType,
                    fact.objectId,
                    fact.clientId,
                    jsonb(fact.body),
                    fact.readsAll,
                    fact.venId,
                    created,
                    at,
                )
                await cur.execute(_WRITE, row)
            else:
                await cur.execute(_DELETE, (fact.objectType, fact.objectId))
