"""Overload: telemetry offered at twice the ingest capacity for a minute, then at half of it.

On a fresh local stack the bench starts the ingest pipeline (one projector, as many bridges
as the ingest bench found best) and offers docs/contract.md telemetry (QoS 1, the ingest
bench's load generator) at OVERLOAD x the measured capacity for OVER_S, then at
DRAIN_FACTOR x capacity until the backlog has drained (long enough for it, at most
DRAIN_LIMIT_S). The capacity is the ingest bench's `ingest_rows_per_s` from
.bench/results.json (`--capacity` overrides it; without either, a 10 s capacity run first).

Nothing may be lost: what the pipeline cannot take yet waits in Mosquitto's queue for the
bridge's persistent session (`max_queued_messages 1000000`, docs/infrastructure.md), and the
load generator's own window (bench/ingest.py `MAX_IN_FLIGHT`) is the backpressure beyond it.
Reported:
- overload_lost: readings the broker acknowledged that never became a row (must be 0);
- overload_peak_lag_s: the highest per-window p99 of publish -> row;
- overload_drain_s: from the end of the overload to the last window whose lag p99 was above
  LAG_OK_S (None: it never got back under it);
- overload_peak_rss_mb_<part>: peak resident memory of each process, sampled every SAMPLE_S
  (RSS; Postgres: the sum of PSS over the server and its backends).
The time series (rows/s, lag, memory) go to .bench/overload_timeseries.json for bench/plot.py.

    python -m bench.overload [--capacity 2500] [--bridges 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import psycopg

from bench import ingest
from bench.memory import Memory
from bench.results import OVERLOAD_SERIES, RESULTS, merge_results, print_table
from dr_infra import LocalStack

OVERLOAD = 2.0
OVER_S = 60.0
DRAIN_FACTOR = 0.5
DRAIN_LIMIT_S = 300.0
#: Lag under which the pipeline counts as drained (issue 18's bound).
LAG_OK_S = 2.0
SAMPLE_S = 0.5


def measured_capacity() -> tuple[float, int] | None:
    """(rows/s, bridges) of the last ingest bench, if it ran."""
    if not RESULTS.exists():
        return None
    numbers = json.loads(RESULTS.read_text())
    if "ingest_rows_per_s" not in numbers:
        return None
    return float(numbers["ingest_rows_per_s"]), int(numbers.get("ingest_best_bridges", 1))


def memory_of(stack: LocalStack, pipeline: ingest.Pipeline) -> Memory:
    pids: dict[str, tuple[int | None, bool]] = {
        f"bridge{i}": (b.pid, False) for i, b in enumerate(pipeline.bridges)
    }
    pids["projector"] = (pipeline.projector.pid, False)
    pids["kafka"] = (stack.kafka.pid if stack.kafka else None, False)
    pids["mqtt"] = (stack.mqtt.pid if stack.mqtt else None, False)
    pids["postgres"] = (stack.postgres.pid if stack.postgres else None, True)
    return Memory(pids, SAMPLE_S)


async def offer(pipeline: ingest.Pipeline, url: str, capacity: float) -> tuple[int, int, float]:
    """Both phases; -> (readings sent, readings acknowledged, when the overload ended [epoch s])."""
    vens = int(OVERLOAD * capacity * ingest.REPORT_INTERVAL_S)
    over = await ingest.publish(url, pipeline.topic, OVERLOAD * capacity, OVER_S, vens)
    over_end = time.time()
    stored = await asyncio.to_thread(ingest.stored_count, pipeline.dsn)
    backlog = over.acked - stored
    drain_rate = DRAIN_FACTOR * capacity
    # While the drain phase offers drain_rate, the backlog shrinks by what the pipeline stores
    # beyond it: under overload that is less than the capacity measured alone (the generator
    # and Mosquitto's growing queue take CPU too), so the rate stored so far is the estimate.
    stored_per_s = stored / OVER_S
    drain_s = min(DRAIN_LIMIT_S, max(0, backlog) / max(1.0, stored_per_s - drain_rate) * 1.5 + 20)
    print(f"overload: {over.acked} acked in {OVER_S:.0f} s, backlog {backlog}; draining {drain_s:.0f} s")
    drain = await ingest.publish(url, pipeline.topic, drain_rate, drain_s, vens, first=over.sent)
    return over.sent + drain.sent, over.acked + drain.acked, over_end


def drain_time(series: dict[str, Any], over_end_t: float) -> float | None:
    """Seconds from the end of the overload until the lag p99 stayed under LAG_OK_S (None: never)."""
    late = [
        t for t, lag in zip(series["t"], series["lag_p99_ms"], strict=True) if lag and lag > LAG_OK_S * 1000
    ]
    if not late:
        return 0.0
    if late[-1] >= series["t"][-1] - 5 * ingest.WINDOW_S:
        return None  # still late at the end of the run
    return round(max(0.0, late[-1] + ingest.WINDOW_S - over_end_t), 1)


def run(stack: LocalStack, capacity: float, bridges: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with ingest.pipeline(stack, bridges) as pipeline:
        memory = memory_of(stack, pipeline)
        with memory.sampling():
            sent, acked, over_end = asyncio.run(offer(pipeline, stack.mqtt_url, capacity))
            stored = ingest.wait_drained(pipeline.dsn, acked)
        with psycopg.connect(pipeline.dsn, autocommit=True) as conn:
            [(first_sent,)] = conn.execute("SELECT min((extras->>'sentAt')::float8) FROM ven_telemetry")
            series = ingest.windows(conn, first_sent)
    over_end_t = over_end - first_sent
    peak_lag_ms = max((lag for lag in series["lag_p99_ms"] if lag is not None), default=0.0)
    numbers: dict[str, Any] = {
        "overload_capacity_per_s": capacity,
        "overload_offered_per_s": OVERLOAD * capacity,
        "overload_sent": sent,
        "overload_lost": acked - stored,
        "overload_peak_lag_s": round(peak_lag_ms / 1000, 2),
        "overload_drain_s": drain_time(series, over_end_t),
    }
    numbers |= {f"overload_peak_rss_mb_{name}": peak for name, peak in memory.peaks().items()}
    timeline = {"over_end_t": round(over_end_t, 2), **series, "memory": {"t": memory.t, **memory.mb}}
    return numbers, timeline


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__.split("\n\n")[0])
    parser.add_argument("--capacity", type=float, help="ingest rows/s (default: the ingest bench's)")
    parser.add_argument("--bridges", type=int, help="bridge replicas (default: the ingest bench's best)")
    args = parser.parse_args(argv)
    with LocalStack() as stack:
        capacity, bridges = measured_capacity() or (None, 1)
        bridges = args.bridges or bridges
        capacity = args.capacity or capacity
        if capacity is None:
            capacity = ingest.run(stack, bridges, 5000.0, 10.0)[0]["rows_per_s"]
            print(f"overload: measured capacity {capacity} rows/s")
        numbers, timeline = run(stack, capacity, bridges)
    merge_results(numbers)
    OVERLOAD_SERIES.write_text(json.dumps(timeline) + "\n")
    print_table(numbers)


if __name__ == "__main__":
    main()
