"""Compact telemetry rows, 1- and 15-minute rollups, retention by whole partitions (issue 16).

Replay is covered by test_rebuild.py: its snapshot compares every projection table,
rollups included, after a rebuild with the live projection.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from dr_contracts.facts import encode_fact
from dr_runtime.kafka import fact_topic
from ingest.adapters.migrations import _apply, migrate, migrations
from ingest.adapters.pg_layouts import layout_key
from ingest.adapters.pg_retention import drop_expired
from ingest.bootstrap import running_projector
from ingest.domain.intake import intake
from ingest.settings import Settings
from tests import samples
from tests.fixtures.waiting import wait_for
from tests.integration.ingest.conftest import DEADLINE_S, Worker, query, wait_rows

VEN = "ven-roll"


def reading(i: int) -> dict[str, Any]:
    """Reading i: every 5 s from a minute boundary, used power varying, shed on two in three."""
    body = samples.telemetry(VEN, samples.TS - samples.TS % 900 + 5 * i)
    body.update(usedPowerKw=1.0 + 0.1 * i, power_kw=None, shedPowerKw=None if i % 3 == 0 else 0.05 * i)
    body.update(shed_kw=None, baselinePowerKw=4.0 + (i % 4), base_power_kw=None)
    return body


async def produce(
    producer: AIOKafkaProducer, settings: Settings, bodies: list[dict[str, Any]], topic: str
) -> None:
    now = datetime.now(UTC)
    for body in bodies:
        fact = intake(topic, samples.dumps(body), now, settings.mqtt_topics)
        await producer.send_and_wait(fact_topic(settings, fact), encode_fact(fact), key=fact.key.encode())


def expected(bodies: list[dict[str, Any]], width_s: int) -> list[tuple[Any, ...]]:
    """The rollup rows the readings make, computed here: exact decimal sums of each value as
    Postgres turns a float8 into numeric (15 significant digits)."""
    buckets: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for body in bodies:
        ts = body["timestamp"]
        buckets[datetime.fromtimestamp(ts - ts % width_s, UTC)].append(body)
    rows = []
    for bucket, items in sorted(buckets.items()):
        used = [b["usedPowerKw"] for b in items]
        shed = [b["shedPowerKw"] for b in items if b["shedPowerKw"] is not None]
        base = [b["baselinePowerKw"] for b in items]
        rows.append(
            (
                bucket,
                len(items),
                sum(map(_numeric, used)),
                min(used),
                max(used),
                len(shed),
                sum(map(_numeric, shed), Decimal(0)),
                min(shed, default=None),
                max(shed, default=None),
                len(base),
                sum(map(_numeric, base)),
            )
        )
    return rows


def _numeric(value: float) -> Decimal:
    return Decimal(f"{value:.15g}")


async def rollups(settings: Settings, table: str) -> list[tuple[Any, ...]]:
    return await query(
        settings,
        "SELECT bucket, samples, used_sum, used_min, used_max, shed_samples, shed_sum, shed_min,"
        f" shed_max, baseline_samples, baseline_sum FROM {table} WHERE ven_id = %s ORDER BY bucket",
        VEN,
    )


async def test_rollups_count_each_reading_once_under_redelivery(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    first = [reading(i) for i in range(30)]  # 2.5 minutes
    later = [reading(i) for i in range(30, 200)]  # to 16.6 minutes: a second quarter
    async with running_projector(settings):
        await produce(producer, settings, first, settings.mqtt_topics.metering)
        await wait_rows(settings, "ven_telemetry", 30)
        # The same readings again (a bridge redelivery, the other MQTT topic), then new ones.
        await produce(producer, settings, first, settings.mqtt_topics.telemetry(VEN))
        await produce(producer, settings, later, settings.mqtt_topics.metering)
        await wait_rows(settings, "ven_telemetry", 200)
        await wait_for(
            lambda: _projected(settings, 230), DEADLINE_S, message="the duplicates were never applied"
        )
    everything = first + later
    assert await rollups(settings, "ven_telemetry_1m") == expected(everything, 60)
    assert await rollups(settings, "ven_telemetry_15m") == expected(everything, 900)
    # One row per reading, the loads as arrays in loadId order, one shared layout.
    [(layouts, loads)] = await query(
        settings,
        "SELECT count(DISTINCT layout_id), min(array_length(load_power_kw, 1)) FROM ven_telemetry",
    )
    assert (layouts, loads) == (1, 3)
    assert await query(settings, "SELECT load_ids FROM load_layouts") == [(["ev1", "hvac1", "pv1"],)]


async def _projected(settings: Settings, records: int) -> bool:
    [(applied,)] = await query(
        settings,
        "SELECT coalesce(sum(next_offset), 0) FROM projection_offsets WHERE topic = %s",
        settings.topics.ven_telemetry,
    )
    return applied == records


async def _partitions(dsn: str, parent: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass ORDER BY 1",
            (parent,),
        )
        return [name for (name,) in await cursor.fetchall()]


async def test_retention_drops_whole_partitions_past_each_horizon(settings: Settings) -> None:
    await migrate(settings.database_url)
    today = date(2026, 3, 20)
    days = [today - timedelta(days=d) for d in (10, 8, 7, 0)] + [date(2025, 12, 31)]
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as conn:
        await conn.execute("SELECT ingest_ensure_days(%s::date[])", (days,))
        for day in days:  # one reading per day, to see that kept partitions keep their rows
            await conn.execute(
                "INSERT INTO ven_telemetry (ven_id, ts, used_power_kw, received_at)"
                " VALUES ('v', %s, 1, now())",
                (datetime(day.year, day.month, day.day, 12, tzinfo=UTC),),
            )
    keep = {"ven_telemetry": 7, "ven_telemetry_1m": 9, "ven_telemetry_15m": 60}
    dropped = await drop_expired(settings.database_url, keep, today)

    assert sorted(dropped) == [
        "ven_telemetry_15m_p20251201",  # December is over 60 days before March 20
        "ven_telemetry_1m_p20251231",
        "ven_telemetry_1m_p20260310",  # 1-minute: up to today - 10
        "ven_telemetry_p20251231",
        "ven_telemetry_p20260310",  # raw: up to today - 8
        "ven_telemetry_p20260312",
    ]
    assert await _partitions(settings.database_url, "ven_telemetry") == [
        "ven_telemetry_p20260313",
        "ven_telemetry_p20260320",
    ]
    assert await _partitions(settings.database_url, "ven_telemetry_15m") == ["ven_telemetry_15m_p20260301"]
    rows = await query(settings, "SELECT ts::date FROM ven_telemetry ORDER BY ts")
    assert rows == [(date(2026, 3, 13),), (date(2026, 3, 20),)]
    assert await drop_expired(settings.database_url, keep, today) == []  # nothing left to drop
    # The CLI pass with the defaults (7, 90, 1830 days before the real today) drops the rest.
    worker = Worker("retention", settings, "never-logged")
    assert await worker.exited() == 0
    assert await _partitions(settings.database_url, "ven_telemetry") == []


@pytest.mark.parametrize("loads", [2, 0])
async def test_migration_moves_load_samples_onto_their_readings(settings: Settings, loads: int) -> None:
    """A database at 0001 with rows: 0002 keeps every sample answerable and rolls up the readings."""
    dsn = settings.database_url
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        await _apply(conn, migrations()[0])
        await conn.execute("SELECT ingest_ensure_days(ARRAY[date '2026-01-01'])")
        for minute in range(2):
            ts = datetime(2026, 1, 1, 0, minute, tzinfo=UTC)
            await conn.execute(
                "INSERT INTO ven_telemetry (ven_id, ts, used_power_kw, shed_power_kw, received_at)"
                " VALUES ('v', %s, %s, 0.5, now())",
                (ts, 1.5 + minute),
            )
            for lid, power in [("b", 0.25), ("B", None)][:loads]:  # "B" < "b" in code points
                await conn.execute(
                    "INSERT INTO ven_load_samples (ven_id, ts, load_id, current_power_kw, enabled)"
                    " VALUES ('v', %s, %s, %s, true)",
                    (ts, lid, power),
                )
    await migrate(dsn)
    samples_ = await query(
        settings,
        "SELECT ts, load_id, current_power_kw, enabled FROM ven_load_samples"
        ' ORDER BY ts, load_id COLLATE "C"',
    )
    first, second = datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    both = [
        (first, "B", None, True),
        (first, "b", 0.25, True),
        (second, "B", None, True),
        (second, "b", 0.25, True),
    ]
    assert samples_ == both[: loads * 2]
    # The migration's layout is the one the projector computes for the same circuits.
    layouts = [(["B", "b"], layout_key(("B", "b")))] if loads else []
    assert await query(settings, "SELECT load_ids, layout_key FROM load_layouts") == layouts
    assert await query(settings, "SELECT samples, used_sum FROM ven_telemetry_1m ORDER BY bucket") == [
        (1, Decimal("1.5")),
        (1, Decimal("2.5")),
    ]
    assert await query(settings, "SELECT samples, used_sum, shed_sum FROM ven_telemetry_15m") == [
        (2, Decimal("4.0"), Decimal("1.0"))
    ]


async def test_a_reading_with_hundreds_of_long_circuit_ids_is_stored_and_read_back(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    """Ids far past the largest btree entry (~2.7 kB; here ~60 kB), in a payload under 128 KiB."""
    body = reading(0)
    ids = [
        f"circuit-{i:04d}-{hashlib.sha512(bytes([i % 256, i // 256])).hexdigest()[:88]}" for i in range(600)
    ]
    body["loads"] = [
        {"loadId": lid, "currentPowerKw": i / 10} for i, lid in enumerate(ids)
    ]  # barely compressible
    assert len(samples.dumps(body)) < 128 * 1024
    async with running_projector(settings):
        await produce(producer, settings, [body], settings.mqtt_topics.metering)
        await wait_rows(settings, "ven_load_samples", 600)
    [(first, last)] = await query(
        settings, "SELECT min(current_power_kw), max(current_power_kw) FROM ven_load_samples"
    )
    assert (first, last) == (0.0, 59.9)
