"""Kafka and Postgres behind the API's ports."""

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

#: The read-model pool: rows come back as dicts keyed by column alias.
Pool = AsyncConnectionPool[AsyncConnection[DictRow]]
