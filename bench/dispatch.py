"""Dispatch speed: start time -> every VEN commanded, and -> every ack projected in Postgres.

On a fresh local stack (Tansu, Mosquitto, PostgreSQL) the bench runs, each as its own
process, the ingest bridge and projector, one dispatcher and a VEN simulator with N VENs
(`python -m ven_sim`, telemetry every SIM_INTERVAL_S). Once the projector has registered
the N VENs (from their first reading), it appends an event targeting them, starting 3 s
later, and measures:
- commanded: start time -> the broker acknowledged the last publish of the fan-out (the
  dispatcher's `event.fanned_out` log line; it records each chunk's CommandIssued facts in
  Kafka before publishing it, so their timestamps draw the fan-out in the timeline);
- acked: start time -> the moment `ven_commands` shows every event command acked
  (polled every 20 ms, from when all are commanded), i.e. ack -> bridge -> Kafka -> projector -> Postgres;
- CPU per process from the start to the fan-out done (`..._fan_out_cpu_s_<process>`) and to every
  ack in Postgres (`..._wave_cpu_s_<process>`: the whole wave, with the VENs' telemetry that
  goes on meanwhile).
Writes dispatch_{1k,10k}_{commanded,acked}_s (targets: 10k commanded <= 1 s, acked <= 3 s),
and to .bench/dispatch_timeline.json, per size, how many VENs were commanded, had their ack
received by the bridge (`ven_commands.acked_at`) and had it projected, over time since start.

    python -m bench.dispatch [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.ingest import stack_cpu
from bench.results import DISPATCH_SERIES, merge_results, print_table
from dr_contracts.facts import EventCreated, EventStopRequested, new_fact
from dr_infra import LocalStack, ensure_topics, topic_partitions
from dr_infra.identities import parse_sim_args, provision
from dr_infra.mosquitto import BrokerTls
from dr_infra.postgres import create_database
from dr_infra.process import cpu_seconds
from dr_runtime.kafka import make_consumer, make_producer, send_fact
from dr_runtime.settings import KafkaSettings
from ingest.adapters.migrations import migrate

LOGS = Path(".bench/logs")
LEAD_S = 3.0
#: Telemetry interval of the simulated VENs: slower than the field's 5 s so that the ingest
#: projector keeps up with 10k VENs' readings and the ack path is measured, not its backlog.
SIM_INTERVAL_S = 20
TIMEOUT_S = 180.0
#: Resolution of the commanded / received curves in the timeline.
STEP_S = 0.01


class Stack:
    """The processes of one bench run, sharing one namespace."""

    def __init__(self, stack: LocalStack, ns: str, dsn: str) -> None:
        self.ns, self.dsn = ns, dsn
        self.env = os.environ | {
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
            "TOPIC_NAMESPACE": ns,
            **stack.env(),
            "MQTT_TOPIC_ROOT": f"{ns}/",
            "DATABASE_URL": dsn,
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "LOG_LEVEL": "INFO",
            "LOG_JSON": "true",
        }
        self.kafka = KafkaSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, topic_namespace=ns)
        self.local = stack
        self.procs: list[subprocess.Popen[bytes]] = []
        self.named: dict[str, subprocess.Popen[bytes]] = {}
        broker = stack.mosquitto
        #: With a TLS broker, each service's own certificate (dr_infra.identities).
        self.identities = provision(broker.tls) if broker.tls else {}

    def sim_identity(self, sim_args: list[str]) -> dict[str, str]:
        """With a TLS broker, the simulator is a legacy gateway for exactly its VENs."""
        broker = self.local.mosquitto
        if broker.tls is None:
            return {}
        env = provision(broker.tls, parse_sim_args(sim_args), "bench-sim")["ven-sim"]
        broker.reload()
        return env

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        LOGS.mkdir(parents=True, exist_ok=True)
        with open(LOGS / f"dispatch-{name}.log", "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", *args],
                env=self.env | (env or {}),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        self.named[name.split("-")[0]] = proc  # "sim-10000" -> "sim"
        return proc

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each process of the run and each broker."""
        return {name: cpu_seconds(p.pid) for name, p in self.named.items()} | stack_cpu(self.local)

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)


async def wait_until(what: str, check: Any, limit_s: float = TIMEOUT_S, every: float = 0.02) -> Any:
    """Poll the async `check` until it returns something truthy."""
    deadline = time.monotonic() + limit_s
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"bench: {what} not reached within {limit_s:.0f}s")
        await asyncio.sleep(every)
    return result


async def registered_vens(dsn: str, prefix: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cur = await conn.execute("SELECT ven_id FROM vens WHERE ven_id LIKE %s", (f"{prefix}%",))
        return [row[0] for row in await cur.fetchall()]


Curve = dict[str, list[float]]


def cumulative(offsets: list[float]) -> Curve:
    """How many of `offsets` are <= t, every STEP_S from the first offset to the last."""
    times = sorted(offsets)
    if not times:
        return {"t": [], "n": []}
    first = math.floor(times[0] / STEP_S)
    ts = [(first + i) * STEP_S for i in range(math.ceil(times[-1] / STEP_S) - first + 1)]
    return {"t": [round(t, 3) for t in ts], "n": [bisect.bisect_right(times, t + 1e-9) for t in ts]}


async def received_offsets(conn: psycopg.AsyncConnection, event_id: str, start: float) -> list[float]:
    """Seconds from start to each event command's ack as received by the bridge."""
    cur = await conn.execute(
        "SELECT extract(epoch FROM acked_at)::float8 - %s FROM ven_commands"
        " WHERE event_id = %s AND op = 'event' AND acked_at IS NOT NULL",
        (start, event_id),
    )
    return [row[0] for row in await cur.fetchall()]


class ProjectedCurve:
    """Acks projected in Postgres over time, sampled by each poll that waits for them."""

    def __init__(self, conn: psycopg.AsyncConnection, event_id: str, start: float) -> None:
        self.conn, self.event_id, self.start = conn, event_id, start
        self.curve: Curve = {"t": [], "n": []}

    async def reached(self, n: int) -> bool:
        count = await acked_count(self.conn, self.event_id, "event")
        if not self.curve["n"] or count != self.curve["n"][-1]:
            self.curve["t"].append(round(time.time() - self.start, 3))
            self.curve["n"].append(count)
        return count >= n


async def acked_count(conn: psycopg.AsyncConnection, event_id: str, op: str) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM ven_commands WHERE event_id = %s AND op = %s AND acked_at IS NOT NULL",
        (event_id, op),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


class IssuedWatcher:
    """Kafka timestamps of the event's CommandIssued and AckReceived facts (first seen)."""

    def __init__(self, kafka: KafkaSettings, event_id: str) -> None:
        topics = kafka.topics
        self.consumer = make_consumer(kafka, topics.dr_commands, topics.ven_acks, group_id=None)
        self.event_id, self.issued_ms, self.acks_ms = event_id, dict[str, int](), dict[str, int]()

    def last_ack_ms(self) -> int:
        """Kafka timestamp of the last ack that answers one of the event's commands."""
        return max((ms for cid, ms in self.acks_ms.items() if cid in self.issued_ms), default=0)

    async def run(self) -> None:
        await self.consumer.start()
        try:
            while True:
                for records in (await self.consumer.getmany(timeout_ms=100)).values():
                    for rec in records:
                        fact = orjson.loads(rec.value)
                        p = fact["payload"]
                        if (
                            fact["type"] == "CommandIssued"
                            and p.get("eventId") == self.event_id
                            and p["op"] == "event"
                        ):
                            self.issued_ms.setdefault(p["correlationId"], rec.timestamp)
                        elif fact["type"] == "AckReceived" and p["ack"].get("correlationId"):
                            self.acks_ms.setdefault(p["ack"]["correlationId"], rec.timestamp)
        finally:
            await self.consumer.stop()


async def trial(stack: Stack, n: int) -> tuple[dict[str, float | None], dict[str, Any]]:
    """One event to `n` VENs: its numbers, and its timeline."""
    prefix = f"b{n}x{uuid.uuid4().hex[:4]}-"
    args = ["--vens", str(n), "--prefix", prefix, "--interval", str(SIM_INTERVAL_S), "--connections", "4"]
    sim = stack.spawn(f"sim-{n}", "ven_sim", *args, "--log-level", "INFO", env=stack.sim_identity(args))
    try:
        vens = await wait_until(f"{n} VENs registered", lambda: _all_registered(stack.dsn, prefix, n))
        start = datetime.now(UTC) + timedelta(seconds=LEAD_S)
        event = EventCreated(
            eventId=f"evt-{uuid.uuid4().hex[:8]}",
            startTime=start,
            endTime=start + timedelta(minutes=10),
            requestedReductionKw=float(n),
            venIds=sorted(vens),
        )
        watcher = IssuedWatcher(stack.kafka, event.eventId)
        watching = asyncio.create_task(watcher.run())
        at_start = asyncio.create_task(_cpu_at(stack, start))
        async with await psycopg.AsyncConnection.connect(stack.dsn, autocommit=True) as conn:
            await append(stack.kafka, event)
            await wait_until("every VEN commanded", lambda: _at_least(len(watcher.issued_ms), n))
            fanned_out = await wait_until("the fan-out logged", lambda: _fanned_out_at(event.eventId))
            commanded = fanned_out - start.timestamp()
            before, after = await at_start, stack.cpu()
            fan_out_cpu = {k: round(after[k] - before[k], 2) for k in after}
            projected = ProjectedCurve(conn, event.eventId, start.timestamp())
            acked: float | None = None
            wave_cpu: dict[str, float] = {}
            try:
                await wait_until("every ack projected", lambda: projected.reached(n))
                acked = round(time.time() - start.timestamp(), 3)
                wave_cpu = {k: round(v - before[k], 2) for k, v in stack.cpu().items()}
            except TimeoutError:  # reported as null, with how far it got
                print(
                    f"  {n} VENs: only {await acked_count(conn, event.eventId, 'event')} acks "
                    f"projected within {TIMEOUT_S:.0f}s"
                )
            in_kafka = watcher.last_ack_ms() / 1000 - start.timestamp()
            print(
                f"  {n} VENs: commanded {commanded:.3f}s, last ack in Kafka {in_kafka:.3f}s "
                f"({len(watcher.acks_ms)} acks), all acks in Postgres {acked}s; "
                f"CPU s from start to fanned out: {fan_out_cpu}; to all acks in Postgres: {wave_cpu}"
            )
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            await append(stack.kafka, EventStopRequested(eventId=event.eventId, reason="bench"))
            with contextlib.suppress(TimeoutError):  # let the restores land before the VENs go
                await wait_until("restores acked", lambda: _acked(conn, event.eventId, "restore", n), 60)
            timeline = {
                "vens": n,
                "commanded": cumulative([ms / 1000 - start.timestamp() for ms in watcher.issued_ms.values()]),
                "acks_received": cumulative(await received_offsets(conn, event.eventId, start.timestamp())),
                "acks_projected": projected.curve,
            }
        label = f"{n // 1000}k" if n % 1000 == 0 else str(n)
        numbers = {f"dispatch_{label}_commanded_s": round(commanded, 3), f"dispatch_{label}_acked_s": acked}
        numbers |= {f"dispatch_{label}_fan_out_cpu_s_{k}": v for k, v in fan_out_cpu.items()}
        numbers |= {f"dispatch_{label}_wave_cpu_s_{k}": v for k, v in wave_cpu.items()}
        return numbers, {label: timeline}
    finally:
        stack.stop(sim)


async def _cpu_at(stack: Stack, moment: datetime) -> dict[str, float]:
    """Every process's CPU seconds at `moment` (the event's start)."""
    await asyncio.sleep(max(0.0, moment.timestamp() - time.time()))
    return stack.cpu()


async def _fanned_out_at(event_id: str) -> float | None:
    """When the dispatcher logged that the broker acknowledged every publish of the event."""
    for line in (LOGS / "dispatch-dispatcher.log").read_bytes().splitlines():
        if b'"event.fanned_out"' in line and event_id.encode() in line:
            return datetime.fromisoformat(orjson.loads(line)["timestamp"]).timestamp()
    return None


async def _all_registered(dsn: str, prefix: str, n: int) -> list[str] | None:
    vens = await registered_vens(dsn, prefix)
    return vens if len(vens) >= n else None


async def _at_least(value: int, n: int) -> bool:
    return value >= n


async def _acked(conn: psycopg.AsyncConnection, event_id: str, op: str, n: int) -> bool:
    return await acked_count(conn, event_id, op) >= n


async def append(kafka: KafkaSettings, payload: EventCreated | EventStopRequested) -> None:
    producer = make_producer(kafka)
    await producer.start()
    try:
        await send_fact(producer, kafka, new_fact(payload))
    finally:
        await producer.stop()


async def run(sizes: list[int], tls: bool = False) -> tuple[dict[str, float | None], dict[str, Any]]:
    numbers: dict[str, float | None] = {}
    timelines: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="dr-bench-pki-") as pki_dir,
        LocalStack(mqtt_tls=BrokerTls(Path(pki_dir), roots=("+/",)) if tls else None) as local,
    ):
        ns = f"bench{uuid.uuid4().hex[:6]}"
        await ensure_topics(local.kafka_bootstrap, topic_partitions(ns))
        dsn = create_database(local.pg_dsn, f"bench_{ns}")
        await migrate(dsn)
        stack = Stack(local, ns, dsn)
        try:
            stack.spawn("bridge", "ingest", "bridge", env=stack.identities.get("bridge"))
            stack.spawn("projector", "ingest", "projector")
            stack.spawn("dispatcher", "dispatcher", env=stack.identities.get("dispatcher"))
            for n in sizes:
                got, timeline = await trial(stack, n)
                numbers |= got
                timelines |= timeline
                print_table(numbers)
        finally:
            stack.stop_all()
    return numbers, timelines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument(
        "--tls",
        action="store_true",
        help="MQTT over TLS with certificates and ACLs, the simulator as a gateway; figures get _tls",
    )
    args = parser.parse_args(argv)
    numbers, timelines = asyncio.run(run(args.sizes, args.tls))
    if args.tls:
        numbers = {f"{name}_tls": value for name, value in numbers.items()}
    else:  # the plotted timelines are the plain-text ones
        merge_results(timelines, DISPATCH_SERIES)
    merge_results(numbers)
    print_table(numbers)


if __name__ == "__main__":
    main()
