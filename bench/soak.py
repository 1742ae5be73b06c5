"""`make soak`: the whole platform at field scale for SOAK_MIN minutes, watched for growth.

On a fresh local stack (Tansu, Mosquitto, PostgreSQL) every service runs as its own process
(dr_infra.Platform, the wiring of `make run`) with VENS simulated VENs reporting every
INTERVAL_S, and an event for every online VEN every EVENT_EVERY_S (starting EVENT_LEAD_S
later, lasting EVENT_S). Not part of CI: it takes the minutes it is given, and the machine.

Reported (printed, .bench/soak.json, the picture .bench/soak.png):
- each process's resident memory at the start (after the VENs came online) and at the end,
  sampled every SAMPLE_S (RSS; Postgres: the sum of PSS over its processes);
- ingest lag p99 per minute (the row's `ingested_at` - the reading's own timestamp, which is
  whole seconds: up to 1 s of it is that rounding);
- readings lost: readings the simulator published (its `sim.stopped` totals) that never
  became a row, once the projector has consumed everything Kafka holds (`wait_drained`;
  must be 0);
- every event's commands, acks and restores (complete: one acked command and one acked
  restore per VEN commanded);
- API read p99 (a mix of list, detail and stats reads) at the start and at the end.

    python -m bench.soak [--minutes 30] [--vens 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench.memory import Memory
from bench.results import BENCH_DIR
from dr_infra import LocalStack, ensure_topics
from dr_infra.demo import create_event, wait_for_vens
from dr_infra.platform import Platform
from dr_runtime.settings import KafkaSettings

INTERVAL_S = 5
EVENT_EVERY_S = 300
EVENT_LEAD_S = 30
EVENT_S = 120
SAMPLE_S = 10
#: Reads per API latency measurement.
READS = 300
LOGS = BENCH_DIR / "soak-logs"
RESULT = BENCH_DIR / "soak.json"
PICTURE = BENCH_DIR / "soak.png"

_LAG_PER_MINUTE = """
SELECT extract(epoch FROM date_trunc('minute', ingested_at))::float8 AS minute, count(*),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM ingested_at - ts))
FROM ven_telemetry GROUP BY 1 ORDER BY 1
"""
#: Every event (one the dispatcher sent nothing for shows as commanded 0, not complete).
_EVENT_COMMANDS = """
SELECT e.event_id,
       count(*) FILTER (WHERE c.op = 'event'),
       count(*) FILTER (WHERE c.op = 'event' AND c.outcome = 'acked'),
       count(*) FILTER (WHERE c.op = 'restore' AND c.outcome = 'acked')
FROM events e LEFT JOIN ven_commands c ON c.event_id = e.event_id
GROUP BY e.event_id, e.start_time ORDER BY e.start_time
"""


def read_p99_ms(api: httpx.Client) -> float:
    """p99 of READS reads the API serves operators: VEN list, event list and detail, stats."""
    events = api.get("/api/events", params={"limit": 1}).json()
    paths = ["/api/vens?limit=100", "/api/events?limit=50", "/api/stats/network"]
    paths += [f"/api/events/{events[0]['id']}"] if events else []
    took = []
    for i in range(READS):
        started = time.perf_counter()
        api.get(paths[i % len(paths)]).raise_for_status()
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.quantiles(took, n=100)[98], 1)


def sim_sent(log: Path) -> int:
    """Readings the simulator published, from its `sim.stopped` line."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if '"sim.stopped"' in line:
            return int(json.loads(line)["telemetry_sent"])
    raise RuntimeError(f"no sim.stopped line in {log}")


_DRAIN = """
SELECT (SELECT count(*) FROM ven_telemetry),
       (SELECT coalesce(sum(next_offset), 0) FROM projection_offsets WHERE topic = %s)
"""


def wait_drained(dsn: str, topic: str, expected: int, idle_s: float = 120) -> int:
    """Rows of ven_telemetry once they reach `expected`, or once the projector's offsets on the
    telemetry topic have not moved for `idle_s` (it has consumed everything Kafka holds).

    The offsets, not the row count: a backlog in Kafka keeps them moving even while a loaded
    machine makes a count slow, and a duplicate reading moves them without adding a row.
    """
    last, moved = -1, time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as db:
        while True:
            [(rows, offsets)] = db.execute(_DRAIN, (topic,)).fetchall()
            if rows >= expected:
                return int(rows)
            if offsets != last:
                last, moved = offsets, time.monotonic()
            elif time.monotonic() - moved > idle_s:
                return int(rows)
            time.sleep(1)


def draw(result: dict[str, Any], path: Path) -> None:
    fig = Figure(figsize=(14, 4.5), layout="tight")
    FigureCanvasAgg(fig)
    mem, lag = fig.subplots(1, 2)
    samples = result["memory_series"]
    for name in samples["mb"]:
        mem.plot([t / 60 for t in samples["t"]], samples["mb"][name], label=name)
    for at in result["event_times_min"]:
        mem.axvline(at, color="grey", linestyle=":", linewidth=0.8)
    # Log scale: the in-memory broker's log grows by GBs while the services stay near 100 MB.
    mem.set(title="Soak: resident memory per process (dotted: events)", xlabel="minutes", ylabel="MB")
    mem.set_yscale("log")
    mem.legend(fontsize="small")
    minutes = result["lag_p99_s_per_minute"]
    lag.bar(range(len(minutes)), minutes)
    lag.set(title="Soak: ingest lag p99 per minute", xlabel="minute", ylabel="s")
    for ax in (mem, lag):
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=100)


FINISHED = ("completed", "stopped", "cancelled")


def run_events(
    api: httpx.Client, processes: dict[str, tuple[int | None, bool]], minutes: float
) -> tuple[dict[str, Any], list[str], list[float]]:
    """An event every EVENT_EVERY_S and a memory sample every SAMPLE_S for `minutes`;
    -> (memory series, event ids, their creation times in minutes)."""
    start = time.monotonic()
    memory = Memory(processes, SAMPLE_S)
    events: list[str] = []
    event_times: list[float] = []
    next_event = start
    while (elapsed := time.monotonic() - start) < minutes * 60:
        if time.monotonic() >= next_event:
            stats = api.get("/api/stats/network").json()
            reduction = max(1.0, 0.5 * stats["potentialLoadReductionKw"])
            events.append(create_event(api, reduction, EVENT_LEAD_S, EVENT_S)["id"])
            event_times.append(round(elapsed / 60, 2))
            next_event += EVENT_EVERY_S
        memory.sample(elapsed)
        now = {name: values[-1] for name, values in memory.mb.items()}
        print(f"soak {elapsed / 60:5.1f} min  events {len(events)}  MB {now}", flush=True)
        time.sleep(SAMPLE_S)
    for event_id in events:  # the last ones may still run
        while api.get(f"/api/events/{event_id}").json()["status"] not in FINISHED:
            time.sleep(2)
    return {"t": memory.t, "mb": memory.mb}, events, event_times


def soak(minutes: float, vens: int) -> dict[str, Any]:
    with LocalStack() as stack:
        kafka = KafkaSettings(kafka_bootstrap_servers=stack.kafka_bootstrap)
        asyncio.run(ensure_topics(stack.kafka_bootstrap, kafka.topic_partitions))
        env = os.environ | stack.env() | {"LOG_JSON": "true", "LOG_LEVEL": "INFO"}
        sim_args = ["--interval", str(INTERVAL_S)]
        with Platform(env, log_dir=LOGS, vens=vens, sim_args=sim_args, startup_timeout=300) as platform:
            processes: dict[str, tuple[int | None, bool]] = {
                name: (service.pid, False) for name, service in platform.services.items()
            }
            for part, component in stack.components().items():
                processes[part] = (component.pid, part == "postgres")
            with httpx.Client(base_url=platform.api_url, timeout=30) as api:
                wait_for_vens(api, int(vens * 0.99), timeout=600)
                reads_start = read_p99_ms(api)
                series, _, event_times = run_events(api, processes, minutes)
                reads_end = read_p99_ms(api)
            sim = platform.services["ven-sim"]
            sim.stop()
            sent = sim_sent(sim.log_path)
            rows = wait_drained(env["DATABASE_URL"], kafka.topics.ven_telemetry, sent)
            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as db:
                lag_rows = db.execute(_LAG_PER_MINUTE).fetchall()
                commands = db.execute(_EVENT_COMMANDS).fetchall()
    return {
        "minutes": minutes,
        "vens": vens,
        "memory_mb_start": {name: values[0] for name, values in series["mb"].items()},
        "memory_mb_end": {name: values[-1] for name, values in series["mb"].items()},
        "memory_series": series,
        "lag_p99_s_per_minute": [round(p99, 2) for _, _, p99 in lag_rows],
        "readings_sent": sent,
        "readings_lost": max(0, sent - rows),
        "events": [
            {"event": e, "commanded": c, "acked": a, "restored": r, "complete": c == a == r and c > 0}
            for e, c, a, r in commands
        ],
        "event_times_min": event_times,
        "api_read_p99_ms_start": reads_start,
        "api_read_p99_ms_end": reads_end,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MIN", "30")))
    parser.add_argument("--vens", type=int, default=10_000)
    args = parser.parse_args(argv)
    result = soak(args.minutes, args.vens)
    BENCH_DIR.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=1) + "\n")
    draw(result, PICTURE)
    shown = {k: v for k, v in result.items() if k != "memory_series"}
    print(json.dumps(shown, indent=1))
    print(f"soak: {RESULT}, {PICTURE}")


if __name__ == "__main__":
    main()
