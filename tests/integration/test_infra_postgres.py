"""SQL through psycopg 3 against the session's PostgreSQL, and restarts of a private one."""

from __future__ import annotations

import psycopg
import pytest

from dr_infra import Postgres

pytestmark = pytest.mark.integration


def test_sync_sql(pg_db: str) -> None:
    with psycopg.connect(pg_db) as conn:
        conn.execute("CREATE TABLE ven (id text PRIMARY KEY, seen timestamptz NOT NULL)")
        conn.execute("INSERT INTO ven VALUES (%s, now())", ("ven-1",))
        conn.commit()
        assert conn.execute("SELECT id FROM ven").fetchall() == [("ven-1",)]
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)


async def test_async_sql(pg_db: str) -> None:
    async with await psycopg.AsyncConnection.connect(pg_db) as conn:
        await conn.execute("CREATE TABLE event (n int)")
        async with conn.cursor() as cur:
            await cur.executemany("INSERT INTO event VALUES (%s)", [(i,) for i in range(10)])
        await conn.commit()
        cur = await conn.execute("SELECT sum(n) FROM event")
        assert await cur.fetchone() == (45,)


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_a_fresh_database(pg_db: str, pg_dsn: str, ns: str, run: int) -> None:
    # The same DDL in both runs: it only works if neither sees the other's table.
    with psycopg.connect(pg_db) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (f"test_{ns}",)
        conn.execute("CREATE TABLE projection (v int)")
        conn.execute("INSERT INTO projection VALUES (%s)", (run,))
        conn.commit()
    with psycopg.connect(pg_dsn) as admin:
        found = admin.execute("SELECT to_regclass('public.projection')").fetchone()
        assert found == (None,), "the server database must not see the test database's tables"


def test_restart_keeps_port_and_data() -> None:
    with Postgres() as pg:
        dsn = pg.create_database("keep")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (v text)")
            conn.execute("INSERT INTO t VALUES ('survives')")
        port, workdir, old_pid = pg.port, pg.workdir, pg.pid
        held = psycopg.connect(dsn, autocommit=True)
        try:
            pg.restart()
            assert (pg.port, pg.workdir) == (port, workdir)
            assert pg.pid != old_pid
            with pytest.raises(psycopg.OperationalError):
                held.execute("SELECT 1")  # old connections are gone after the restart
        finally:
            held.close()
        with psycopg.connect(dsn) as conn:  # new connections work on the same port
            assert conn.execute("SELECT v FROM t").fetchall() == [("survives",)]
        pg.drop_database("keep")
