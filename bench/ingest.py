"""Ingest end to end: MQTT telemetry -> bridge -> Kafka -> projector -> Postgres rows.

On a fresh local stack (Tansu, Mosquitto, PostgreSQL) the bench starts the bridge
(1, then 2 replicas) and one projector as their own processes (`python -m ingest ...`),
then simulated VENs publish docs/contract.md telemetry (6 loads, QoS 1) on `volttron/metering`
at a fixed offered rate. Each reading carries its publish time (`sentAt`, kept in the
row's extras); the row's `ingested_at` is stamped by Postgres. Reported per run:
- rows_per_s: readings stored / (last row stored - first reading sent);
- lag p50/p99: ingested_at - sentAt over every row;
- lost: readings the broker acknowledged (PUBACK) that never became a row;
- CPU per process (bridge, projector, Tansu, Mosquitto, Postgres with its backends) from the
  first reading sent to the last one stored; `cpu_us_per_reading` is its sum per stored
  reading, from the first run (1 bridge at the offered rate).
Per WINDOW_S of each run (from the first reading sent), the rows stored in that window
and their lag p50/p99 go to .bench/ingest_timeseries.json for bench/plot.py.

The load generator writes raw MQTT 3.1.1 PUBLISH packets on one socket: a client
library spends more CPU per message than the bridge does, and this 2-core machine
also runs every broker, so the generator must cost next to nothing.

    python -m bench.ingest [--rate 5000] [--seconds 30] [--replicas 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import ssl
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.results import INGEST_SERIES, merge_results, print_table
from dr_contracts.topics import MqttTopics
from dr_infra import LocalStack, ensure_topics, topic_partitions
from dr_infra.identities import provision
from dr_infra.mosquitto import BrokerTls, Mosquitto
from dr_infra.postgres import create_database
from dr_infra.process import cpu_seconds
from dr_infra.services import ServiceProcess, log_probe
from dr_runtime import mqtt_wire
from dr_runtime.mqtt import broker_address
from dr_runtime.settings import TelemetryRetention
from tests import samples

REPORT_INTERVAL_S = 5
#: The six loads of every reading (a generating one last).
READING_LOADS = [
    {
        "loadId": lid,
        "name": name,
        "type": kind,
        "capacityKw": cap,
        "currentPowerKw": -2.1 if kind == "pv" else round(cap * 0.3, 3),
        "shedCapabilityKw": 0.0 if kind == "pv" else round(cap * 0.25, 3),
        "enabled": True,
        "priority": i + 1,
    }
    for i, (lid, name, kind, cap) in enumerate(
        [
            ("hvac1", "HVAC", "hvac", 3.5),
            ("ev1", "EV Charger", "ev", 7.2),
            ("wh1", "Water Heater", "water_heater", 4.5),
            ("pool1", "Pool Pump", "pool_pump", 1.5),
            ("dryer1", "Dryer", "dryer", 5.0),
            ("pv1", "Solar", "pv", 6.0),
        ]
    )
]
MAX_IN_FLIGHT = 20_000
DRAIN_STALL_S = 30.0
WINDOW_S = 0.5
LOGS = Path(".bench/logs")
#: With --tls, the load generator is this legacy gateway, owning every VEN it reports for.
BENCH_GATEWAY = "bench-gateway"


# -- the load generator ---------------------------------------------------------------------


def ven_id(ven: int) -> str:
    return f"ven-{ven:06d}"


def reading(ven: int, ts: int, sent_at: float) -> bytes:
    """One docs/contract.md telemetry payload (canonical and legacy keys, 6 loads)."""
    used = 2.73 + (ven % 7) * 0.1
    return orjson.dumps(
        samples.telemetry(
            ven_id(ven),
            ts,
            usedPowerKw=used,
            power_kw=used,
            eventId=None,
            active_event=None,
            loads=READING_LOADS,
            sentAt=sent_at,
        )
    )


@dataclass
class Load:
    total: int
    sent: int = 0
    acked: int = 0
    all_acked: asyncio.Event = field(default_factory=asyncio.Event)


async def publish(
    url: str,
    topic: str,
    rate: float,
    seconds: float,
    vens: int,
    first: int = 0,
    tls: ssl.SSLContext | None = None,
) -> Load:
    """Publish `rate` readings/s for `seconds`, QoS 1; count the broker's PUBACKs.

    Reading i is VEN i % `vens` at its (i // `vens`)-th report; a later phase of the same run
    starts at `first` (the readings sent before it), so no two readings are the same. With
    `tls`, over TLS with that context's client certificate.
    """
    host, port = broker_address(url)
    reader, writer = await asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None)
    writer.write(mqtt_wire.connect(f"bench-pub-{uuid.uuid4().hex[:8]}", 60, None, None))
    await writer.drain()
    if (refusal := mqtt_wire.connack_refusal(await reader.readexactly(4))) is not None:
        raise RuntimeError(f"MQTT broker refused the load generator: {refusal}")
    load = Load(total=int(rate * seconds))
    acks = asyncio.create_task(_count_acks(reader, load))
    topic_b, base_ts = topic.encode(), 1_760_000_000
    start = time.time()
    while load.sent < load.total:
        due = min(load.total, int((time.time() - start) * rate) + 1)
        if load.sent - load.acked > MAX_IN_FLIGHT:
            due = load.sent  # the broker is behind: wait for acks, keep the window bounded
        now = time.time()
        chunk = []
        for i in range(first + load.sent, first + due):
            ts = base_ts + (i // vens) * REPORT_INTERVAL_S
            chunk.append(mqtt_wire.publish_qos1(topic_b, i % 65535 + 1, reading(i % vens, ts, now)))
        load.sent = due
        writer.write(b"".join(chunk))
        await writer.drain()
        await asyncio.sleep(0.005)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.all_acked.wait(), timeout=60)
    acks.cancel()
    writer.close()
    return load


async def _count_acks(reader: asyncio.StreamReader, load: Load) -> None:
    buffer = bytearray()
    while data := await reader.read(65536):
        buffer += data
        load.acked += sum(kind == mqtt_wire.PUBACK for kind, _ in mqtt_wire.split_packets(buffer))
        if load.acked >= load.total:
            load.all_acked.set()


# -- the services under test ----------------------------------------------------------------


def stack_cpu(stack: LocalStack) -> dict[str, float]:
    """CPU seconds used so far by each broker (Postgres: the server and its backends)."""
    return {
        "kafka": cpu_seconds(stack.kafka.pid if stack.kafka else None),
        "mqtt": cpu_seconds(stack.mqtt.pid if stack.mqtt else None),
        "postgres": cpu_seconds(stack.postgres.pid if stack.postgres else None, with_descendants=True),
    }


def pipeline_cpu(stack: LocalStack, ingest: Pipeline) -> dict[str, float]:
    """CPU seconds used so far by every process a reading passes through (start-up included:
    `run` takes the difference over the load, so a process's start is not a reading's cost)."""
    cpu = {f"bridge{i}": cpu_seconds(b.pid) for i, b in enumerate(ingest.bridges)}
    cpu["projector"] = cpu_seconds(ingest.projector.pid)
    return cpu | stack_cpu(stack)


def service(name: str, command: str, env: dict[str, str], ready_event: str) -> ServiceProcess:
    """`python -m ingest <command>`, started once it logged `ready_event` (log in LOGS)."""
    process = ServiceProcess(name, ["ingest", command], env, probe=log_probe(ready_event), log_dir=LOGS)
    return process.start()


# -- one run --------------------------------------------------------------------------------


_STATS = """
SELECT count(*), min((extras->>'sentAt')::float8), max(extract(epoch FROM ingested_at))::float8,
       percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (
           ORDER BY extract(epoch FROM ingested_at)::float8 - (extras->>'sentAt')::float8)
FROM ven_telemetry
"""

_WINDOWS = """
SELECT floor((stored - %(t0)s) / %(window)s)::int AS slot, count(*),
       percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY lag)
FROM (SELECT extract(epoch FROM ingested_at)::float8 AS stored,
             extract(epoch FROM ingested_at)::float8 - (extras->>'sentAt')::float8 AS lag
      FROM ven_telemetry) AS rows
GROUP BY slot ORDER BY slot
"""


def windows(conn: psycopg.Connection[Any], t0: float) -> dict[str, list[float | None]]:
    """Rows stored per second and their lag p50/p99 in each WINDOW_S since `t0` (gaps: 0 rows)."""
    stored = conn.execute(_WINDOWS, {"t0": t0, "window": WINDOW_S})
    found = {slot: (count, lags) for slot, count, lags in stored}
    slots = range(max(found, default=-1) + 1)
    rows = [found.get(slot, (0, [None, None])) for slot in slots]
    return {
        "t": [round(slot * WINDOW_S, 3) for slot in slots],
        "rows_per_s": [count / WINDOW_S for count, _ in rows],
        "lag_p50_ms": [_ms(lags[0]) for _, lags in rows],
        "lag_p99_ms": [_ms(lags[1]) for _, lags in rows],
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


# Bytes on disk (heap, TOAST, indexes) of every partition of a partitioned table; 0 if absent.
_TABLE_BYTES = """
SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint
FROM pg_inherits i WHERE i.inhparent = to_regclass(%s)
"""
#: Per-load storage: the rows of the old schema, or the layouts of the compact one.
_RAW_PARTS = ("ven_telemetry", "ven_load_samples")
#: Rollup tables and their rows per VEN and day.
_ROLLUPS = {"ven_telemetry_1m": 1440, "ven_telemetry_15m": 96}
#: The fleet the storage projection is for: 100k VENs reporting every 5 s.
FLEET_VENS, FLEET_INTERVAL_S = 100_000, 5
TB = 1e12


def storage(conn: psycopg.Connection[Any], readings: int) -> dict[str, float]:
    """Bytes per stored reading (and per rollup row) in this run's database, and what they
    make for FLEET_VENS over a month and a year with the retention defaults."""
    raw = sum(conn.execute(_TABLE_BYTES, (t,)).fetchone()[0] for t in _RAW_PARTS)  # type: ignore[index]
    layouts = conn.execute(
        "SELECT coalesce(pg_total_relation_size(to_regclass('load_layouts')), 0)"
    ).fetchone()
    per_reading = (raw + layouts[0]) / max(1, readings)  # type: ignore[index]
    out = {"pg_bytes_per_reading": round(per_reading, 1)}
    per_day = {"ven_telemetry": FLEET_VENS * 86_400 / FLEET_INTERVAL_S * per_reading}
    for table, per_ven_day in _ROLLUPS.items():
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:  # type: ignore[index]
            continue  # a schema without rollups
        bytes_ = conn.execute(_TABLE_BYTES, (table,)).fetchone()[0]  # type: ignore[index]
        rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        out[f"pg_bytes_per_rollup_{table.rsplit('_', 1)[1]}"] = round(bytes_ / max(1, rows), 1)
        per_day[table] = FLEET_VENS * per_ven_day * bytes_ / max(1, rows)
    # A schema without rollups never dropped anything either.
    kept = TelemetryRetention().retention_days if len(per_day) > 1 else {"ven_telemetry": 10**6}

    def footprint(days: int) -> float:
        return sum(per_day[t] * min(days, kept[t]) for t in per_day) / TB

    out |= {
        "storage_tb_per_day_written_100k_vens": round(sum(per_day.values()) / TB, 2),
        "storage_tb_per_month_100k_vens": round(footprint(30), 2),
        "storage_tb_after_a_year_100k_vens": round(footprint(365), 2),
    }
    return out


def stored_count(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM ven_telemetry").fetchone()[0]  # type: ignore[index]


def wait_drained(dsn: str, expected: int) -> int:
    """Wait until every acknowledged reading is a row, or until nothing moves for a while."""
    last, moved = -1, time.time()
    while True:
        count = stored_count(dsn)
        if count >= expected:
            return count
        if count != last:
            last, moved = count, time.time()
        elif time.time() - moved > DRAIN_STALL_S:
            return count
        time.sleep(0.2)


@dataclass
class Pipeline:
    """The ingest processes of one run, in their own namespace and database."""

    dsn: str
    topic: str
    projector: ServiceProcess
    bridges: list[ServiceProcess]


@contextlib.contextmanager
def pipeline(stack: LocalStack, replicas: int) -> Iterator[Pipeline]:
    """One projector and `replicas` bridges on fresh topics and a fresh database; stopped after."""
    ns = f"b{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(stack.kafka_bootstrap, topic_partitions(ns)))
    dsn = create_database(stack.pg_dsn, f"bench_{ns}")
    env = (
        os.environ
        | stack.env()
        | {
            "DATABASE_URL": dsn,
            "TOPIC_NAMESPACE": ns,
            "MQTT_TOPIC_ROOT": f"{ns}/",
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "LOG_LEVEL": "INFO",
            "LOG_JSON": "true",
        }
    )
    broker = stack.mosquitto
    identities = provision(broker.tls) if broker.tls else {}
    services: list[ServiceProcess] = []
    try:
        projector = service("ingest-projector", "projector", env, '"projection.assigned"')
        services.append(projector)
        bridges = []
        for i in range(replicas):
            bridge_env = env | identities.get("bridge", {}) | {"BRIDGE_CLIENT_ID": f"bench-{ns}-{i}"}
            bridges.append(service(f"ingest-bridge{i}", "bridge", bridge_env, '"bridge.subscribed"'))
            services.append(bridges[-1])
        yield Pipeline(dsn, MqttTopics(f"{ns}/").metering, projector, bridges)
    finally:
        for s in services:
            s.stop()


def run(
    stack: LocalStack, replicas: int, rate: float, seconds: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One run: its numbers, and its time series."""
    with pipeline(stack, replicas) as ingest:
        vens = int(rate * REPORT_INTERVAL_S)
        tls = load_generator_tls(stack.mosquitto, vens)
        before = pipeline_cpu(stack, ingest)
        load = asyncio.run(publish(stack.mqtt_url, ingest.topic, rate, seconds, vens, tls=tls))
        stored = wait_drained(ingest.dsn, load.acked)
        cpu = {k: round(v - before[k], 1) for k, v in pipeline_cpu(stack, ingest).items()}
        with psycopg.connect(ingest.dsn, autocommit=True) as conn:
            count, first_sent, last_row, (p50, p99) = conn.execute(_STATS).fetchone()  # type: ignore[misc]
            series = windows(conn, first_sent) if count else {}
            sizes = storage(conn, count)
    result = {
        "replicas": replicas,
        "offered_per_s": rate,
        "sent": load.sent,
        "acked": load.acked,
        "stored": stored,
        "lost": load.acked - count,
        "rows_per_s": round(count / (last_row - first_sent), 1) if count else 0.0,
        "lag_p50_ms": round(p50 * 1000, 1) if count else None,
        "lag_p99_ms": round(p99 * 1000, 1) if count else None,
        "cpu_s": cpu,
        "vens": vens,
        "storage": sizes,
    }
    return result, {"replicas": replicas, "offered_per_s": rate, "window_s": WINDOW_S, **series}


def load_generator_tls(broker: Mosquitto, vens: int) -> ssl.SSLContext | None:
    """With a TLS broker: the load generator's context, as a legacy gateway owning its VENs."""
    if broker.tls is None:
        return None
    pki = broker.tls.pki
    pki.ensure_client(BENCH_GATEWAY, "gateway")
    pki.set_gateway(BENCH_GATEWAY, [ven_id(v) for v in range(vens)], legacy=True)
    broker.reload()
    return broker.tls.client_context(BENCH_GATEWAY)


def per_reading_us(result: dict[str, Any]) -> dict[str, float]:
    """CPU microseconds each part spent per stored reading."""
    stored = max(1, result["stored"])
    return {part: round(seconds * 1e6 / stored, 1) for part, seconds in result["cpu_s"].items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rate", type=float, default=10_000.0, help="offered readings/s for the capacity runs"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="how long VENs publish in each run")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2], help="bridge replicas to try")
    parser.add_argument(
        "--steady",
        type=float,
        default=0.6,
        help="the lag run offers this fraction of the best sustained rate",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="MQTT over TLS with client certificates, ACLs and the legacy-gateway check, as deployed;"
        " every figure gets the suffix _tls",
    )
    args = parser.parse_args(argv)
    numbers: dict[str, Any] = {"ingest_offered_per_s": args.rate}
    runs: list[dict[str, Any]] = []
    series: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="dr-bench-pki-") as pki_dir,
        LocalStack(mqtt_tls=BrokerTls(Path(pki_dir), roots=("+/",)) if args.tls else None) as stack,
    ):
        for replicas in args.replicas:
            result, series[f"capacity, {replicas} bridge(s)"] = run(stack, replicas, args.rate, args.seconds)
            print(f"ingest capacity, {replicas} bridge(s): {result}", flush=True)
            runs.append(result)
            plural = "bridge" if replicas == 1 else "bridges"
            numbers[f"ingest_rows_per_s_{replicas}_{plural}"] = result["rows_per_s"]
        best = max(runs, key=lambda r: r["rows_per_s"])
        steady_rate = max(100.0, round(best["rows_per_s"] * args.steady, -2))
        steady, series[f"steady, {best['replicas']} bridge(s)"] = run(
            stack, best["replicas"], steady_rate, args.seconds * 1.5
        )
        print(f"ingest steady, {best['replicas']} bridge(s): {steady}", flush=True)
        runs.append(steady)
    numbers |= {
        "ingest_rows_per_s": best["rows_per_s"],
        "ingest_best_bridges": best["replicas"],
        "ingest_lag_p50_ms": steady["lag_p50_ms"],
        "ingest_lag_p99_ms": steady["lag_p99_ms"],
        "ingest_lag_offered_per_s": steady_rate,
        "ingest_lag_p99_ms_at_capacity": best["lag_p99_ms"],
        "ingest_lost": sum(r["lost"] for r in runs),
    }
    cpu = per_reading_us(runs[0])
    numbers |= {f"ingest_cpu_us_per_reading_{k}": v for k, v in cpu.items()}
    numbers["cpu_us_per_reading"] = round(sum(cpu.values()), 1)
    numbers |= steady["storage"]  # the longest run: the most rows per page
    if args.tls:
        numbers = {f"{name}_tls": value for name, value in numbers.items()}
    merge_results(numbers)
    if not args.tls:  # the plotted series are the plain-text ones
        INGEST_SERIES.write_text(json.dumps(series) + "\n")
    print_table(numbers)


if __name__ == "__main__":
    main()
