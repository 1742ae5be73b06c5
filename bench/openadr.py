"""The OpenADR 3.1 facade (docs/openadr.md): its events' fan-out against REST's, and 1,000 VENs polling.

On a fresh local stack (Tansu, Mosquitto, PostgreSQL) the bench runs, each as its own process,
the ingest bridge and projector, one dispatcher and ONE api replica (with API_TOKENS for the REST
operator, API_JWT_SECRET and an OADR_CLIENTS_FILE holding a BL client and VEN_CLIENTS VEN clients),
as bench/dispatch.py does (its Stack, logs in .bench/logs/dispatch-*.log), then:

1. Fan-out: a VEN simulator with 1,000 VENs (telemetry every 20 s). Once the projector has
   registered them, an event without VEN ids / targets (every online VEN: the 1,000), starting
   3 s later, is created over REST (`POST /api/events`, operator token) or over OpenADR
   (`POST /openadr3/3.1.0/events`, BL token), and measured exactly as bench/dispatch.py does:
   - commanded: start -> the dispatcher's `event.fanned_out` log line (the broker acknowledged
     the last publish), once every VEN's CommandIssued fact is in Kafka;
   - acked: start -> `ven_commands` shows every event command acked (polled every 20 ms).
   The event is then stopped (REST: `POST /api/events/{id}/stop`; OpenADR: `DELETE /events/{id}`)
   and the bench waits for every restore ack before the next event. `--rounds` pairs run, the
   order alternating (REST first in even rounds); with several rounds each figure is the median.
   Writes {rest,openadr}_1k_{commanded,acked}_s.
2. Polling: the simulator is stopped (its telemetry would compete for the 2 cores), the BL
   creates one VEN object per VEN client (`ven-client-i`, target `site-i`) and 5 events over
   OpenADR starting in an hour (so nothing is dispatched meanwhile): 3 targeted at a few
   `site-i`, 2 untargeted. Each VEN client gets its token (`POST /auth/token`, 8 at a time:
   scrypt runs in the api's threads). Then VEN_CLIENTS pollers, one shared httpx.AsyncClient,
   each `GET /events?limit=50` every 10 s from a random offset in the first 10 s, for --poll-s.
   Latency counts from each poll's planned time (a late poll also delays the VEN's next one, so
   a slow server is not hidden: no coordinated omission). Writes openadr_poll_{p50,p99}_ms,
   openadr_poll_rps (answers / window), openadr_poll_errors (non-200 and transport errors),
   openadr_poll_api_cpu_s (the api process over the window) and openadr_poll_loadgen_cpu_s.
   The load generator is this process, on the same 2 cores as the api and the brokers; the api's
   own histogram of the route (api_request_seconds, from its middleware on) is printed beside
   the client's figures, so what the load generator adds to them shows.

The VEN clients' secrets: one secret and ONE scrypt hash (api.openadr.clients.hash_secret)
shared by every VEN client line of the clients file, instead of 1,000 calls to add_client
(~40 ms of scrypt each). The api still checks one scrypt per token request, as in production;
sharing the hash changes nothing the bench measures (a bench shortcut, not a deployment).

    python -m bench.openadr [--rounds 2] [--poll-s 60] [--vens 1000] [--ven-clients 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from api.openadr.clients import add_client, hash_secret
from bench.api import p99_ms
from bench.dispatch import (
    LEAD_S,
    SIM_INTERVAL_S,
    TIMEOUT_S,
    IssuedWatcher,
    ProjectedCurve,
    Stack,
    _acked,
    _all_registered,
    _at_least,
    _fanned_out_at,
    acked_count,
    wait_until,
)
from bench.results import merge_results, print_table
from dr_infra import LocalStack, ensure_topics, free_port, topic_partitions
from dr_infra.postgres import create_database
from dr_infra.process import cpu_seconds
from ingest.adapters.migrations import migrate

OADR = "/openadr3/3.1.0"
BL_CLIENT = "bench-bl"
POLL_EVERY_S = 10.0
POLL_S = 60.0
#: Concurrent token requests: each is one scrypt (~40 ms, 16 MiB) in the api's thread pool.
TOKEN_CONCURRENCY = 8
#: Concurrent VEN object creations (each waits for the read model: read-your-writes).
WRITE_CONCURRENCY = 16
#: Polling events: 3 targeted at a few sites, 2 untargeted.
TARGETED_EVENTS = [[0, 1, 2], [3, 500], [999]]
UNTARGETED_EVENTS = 2
Json = dict[str, Any]


def oadr_event(program_id: str, name: str, start: datetime, kw: float, targets: list[str] | None) -> Json:
    """An OpenADR event the facade maps onto a platform event (one DISPATCH_SETPOINT_RELATIVE kW)."""
    body: Json = {
        "programID": program_id,
        "eventName": name,
        "payloadDescriptors": [
            {
                "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                "payloadType": "DISPATCH_SETPOINT_RELATIVE",
                "units": "KW",
            }
        ],
        "intervalPeriod": {"start": start.isoformat(), "duration": "PT10M"},
        "intervals": [{"id": 0, "payloads": [{"type": "DISPATCH_SETPOINT_RELATIVE", "values": [kw]}]}],
    }
    if targets is not None:
        body["targets"] = targets
    return body


def _ok(response: httpx.Response, expected: int) -> Json:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    result: Json = response.json()
    return result


async def token(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await http.post(
        f"{OADR}/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    return str(_ok(response, 200)["access_token"])


async def wait_api(http: httpx.AsyncClient, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/ready")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("the API did not become ready")


async def bounded(limit: int, calls: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run `calls`, at most `limit` at a time, in order of their results."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


# ---- 1. fan-out: the same event over REST and over OpenADR --------------------------------


class Creators:
    """Create and stop an event for every online VEN, over REST or over OpenADR."""

    def __init__(self, http: httpx.AsyncClient, rest_token: str, bl_token: str, program_id: str) -> None:
        self.http, self.program_id = http, program_id
        self.rest = {"Authorization": f"Bearer {rest_token}"}
        self.bl = {"Authorization": f"Bearer {bl_token}"}

    async def create(self, via: str, start: datetime, kw: float) -> str:
        if via == "rest":
            body = {
                "startTime": start.isoformat(),
                "endTime": (start + timedelta(minutes=10)).isoformat(),
                "requestedReductionKw": kw,
            }
            return str(_ok(await self.http.post("/api/events", json=body, headers=self.rest), 201)["id"])
        body = oadr_event(self.program_id, f"bench-{uuid.uuid4().hex[:6]}", start, kw, None)
        return str(_ok(await self.http.post(f"{OADR}/events", json=body, headers=self.bl), 201)["id"])

    async def stop(self, via: str, event_id: str) -> None:
        if via == "rest":
            _ok(await self.http.post(f"/api/events/{event_id}/stop", headers=self.rest), 202)
        else:
            _ok(await self.http.delete(f"{OADR}/events/{event_id}", headers=self.bl), 200)


async def fan_out(stack: Stack, creators: Creators, via: str, n: int) -> tuple[float, float | None]:
    """One event for every online VEN (the `n` simulated ones): (commanded s, acked s or None)."""
    start = datetime.now(UTC) + timedelta(seconds=LEAD_S)
    event_id = await creators.create(via, start, float(n))
    # The watcher reads both topics from the earliest offset: started after the creation,
    # it still sees every CommandIssued (issued at the start, 3 s later, anyway).
    watcher = IssuedWatcher(stack.kafka, event_id)
    watching = asyncio.create_task(watcher.run())
    try:
        async with await psycopg.AsyncConnection.connect(stack.dsn, autocommit=True) as conn:
            await wait_until(f"{via}: every VEN commanded", lambda: _at_least(len(watcher.issued_ms), n))
            fanned_out = await wait_until(f"{via}: the fan-out logged", lambda: _fanned_out_at(event_id))
            commanded = round(fanned_out - start.timestamp(), 3)
            projected = ProjectedCurve(conn, event_id, start.timestamp())
            acked: float | None = None
            try:
                await wait_until(f"{via}: every ack projected", lambda: projected.reached(n))
                acked = round(time.time() - start.timestamp(), 3)
            except TimeoutError:
                got = await acked_count(conn, event_id, "event")
                print(f"  {via}: only {got} acks projected within {TIMEOUT_S:.0f}s")
            last_ack_ms = watcher.last_ack_ms()
            in_kafka = f"{last_ack_ms / 1000 - start.timestamp():.3f}s" if last_ack_ms else "not seen yet"
            print(
                f"  {via} event {event_id} -> {len(watcher.issued_ms)} VENs: commanded {commanded:.3f}s, "
                f"last ack in Kafka {in_kafka}, all acks in Postgres {acked}s",
                flush=True,
            )
            await creators.stop(via, event_id)
            with contextlib.suppress(TimeoutError):  # the VENs restored before the next event
                await wait_until(f"{via}: restores acked", lambda: _acked(conn, event_id, "restore", n), 60)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    return commanded, acked


async def fan_outs(stack: Stack, creators: Creators, n: int, rounds: int) -> dict[str, float | None]:
    got: dict[str, list[tuple[float, float | None]]] = {"rest": [], "openadr": []}
    for r in range(rounds):
        for via in ("rest", "openadr") if r % 2 == 0 else ("openadr", "rest"):
            got[via].append(await fan_out(stack, creators, via, n))
    label = f"{n // 1000}k" if n % 1000 == 0 else str(n)
    numbers: dict[str, float | None] = {}
    for via, runs in got.items():
        acks = [a for _, a in runs if a is not None]
        numbers[f"{via}_{label}_commanded_s"] = round(statistics.median(c for c, _ in runs), 3)
        numbers[f"{via}_{label}_acked_s"] = (
            round(statistics.median(acks), 3) if len(acks) == len(runs) else None
        )
    return numbers


# ---- 2. polling: VEN_CLIENTS OpenADR VENs reading their events every 10 s -----------------


def write_ven_clients(path: Path, count: int) -> str:
    """Append `count` VEN clients sharing one secret (and its one scrypt hash); return the secret."""
    secret = secrets.token_urlsafe(32)
    hashed = hash_secret(secret)
    with path.open("a") as out:
        out.writelines(f"ven-client-{i} ven {hashed}\n" for i in range(count))
    return secret


async def prepare_polling(
    http: httpx.AsyncClient, bl: str, program_id: str, vens: int, secret: str
) -> list[str]:
    """VEN objects and the 5 events, then every VEN client's token (in client order)."""
    headers = {"Authorization": f"Bearer {bl}"}

    async def ven_object(i: int) -> None:
        body = {
            "venName": f"ven-client-{i}",
            "clientID": f"ven-client-{i}",
            "targets": [f"site-{i}"],
            "objectType": "BL_VEN_REQUEST",
        }
        _ok(await http.post(f"{OADR}/vens", json=body, headers=headers), 201)

    started = time.monotonic()
    await bounded(WRITE_CONCURRENCY, [lambda i=i: ven_object(i) for i in range(vens)])  # type: ignore[misc]
    print(f"  {vens} VEN objects created in {time.monotonic() - started:.1f}s", flush=True)
    start = datetime.now(UTC) + timedelta(hours=1)
    plans: list[list[str] | None] = [[f"site-{i}" for i in sites if i < vens] for sites in TARGETED_EVENTS]
    plans += [None] * UNTARGETED_EVENTS
    for k, targets in enumerate(plans):
        if targets == []:
            continue
        body = oadr_event(program_id, f"poll-{k}", start + timedelta(minutes=k), 1.0 + k, targets)
        _ok(await http.post(f"{OADR}/events", json=body, headers=headers), 201)
    started = time.monotonic()
    tokens: list[str] = await bounded(
        TOKEN_CONCURRENCY,
        [lambda i=i: token(http, f"ven-client-{i}", secret) for i in range(vens)],  # type: ignore[misc]
    )
    print(f"  {vens} tokens fetched in {time.monotonic() - started:.1f}s ({TOKEN_CONCURRENCY} at a time)")
    return tokens


def expected_events(i: int) -> int:
    """How many of the polling events VEN client i sees: its targeted ones and the untargeted."""
    return sum(i in sites for sites in TARGETED_EVENTS) + UNTARGETED_EVENTS


async def poll(
    http: httpx.AsyncClient, tokens: list[str], seconds: float
) -> tuple[list[float], Counter[str], float]:
    """Every VEN polls every POLL_EVERY_S from a random offset until `seconds` have passed:
    (latencies from each poll's planned time, errors by kind, the window's length in s)."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    began = time.perf_counter()
    end = began + seconds

    async def ven(i: int, bearer: str) -> None:
        headers = {"Authorization": f"Bearer {bearer}"}
        planned = began + random.uniform(0, POLL_EVERY_S)
        while planned < end:
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            try:
                response = await http.get(f"{OADR}/events", params={"limit": 50}, headers=headers)
                if response.status_code != 200:
                    errors[f"http {response.status_code}"] += 1
                elif len(response.json()) != expected_events(i):
                    errors["wrong events"] += 1
                else:
                    latencies.append(time.perf_counter() - planned)
            except httpx.HTTPError as err:
                errors[type(err).__name__] += 1
            planned += POLL_EVERY_S

    await asyncio.gather(*(ven(i, t) for i, t in enumerate(tokens)))
    return latencies, errors, time.perf_counter() - began


async def server_buckets(http: httpx.AsyncClient) -> dict[str, float]:
    """The api's own latency histogram of `GET .../events` (cumulative count by bucket bound)."""
    buckets: dict[str, float] = {}
    for line in (await http.get("/metrics")).text.splitlines():
        if line.startswith("api_request_seconds_bucket{") and 'method="GET"' in line:
            labels, _, value = line.rpartition(" ")
            route = labels.split('route="')[1].split('"')[0]
            if route.endswith("/events") and not route.startswith("/api"):
                buckets[labels.split('le="')[1].split('"')[0]] = float(value)
    return buckets


async def polling(
    stack: Stack, http: httpx.AsyncClient, tokens: list[str], seconds: float
) -> dict[str, float]:
    api_pid = stack.named["api"].pid
    cpu_before, me_before = stack.cpu(), cpu_seconds(os.getpid())
    server_before = await server_buckets(http)
    latencies, errors, window = await poll(http, tokens, seconds)
    cpu_after, me_after = stack.cpu(), cpu_seconds(os.getpid())
    server = {le: n - server_before.get(le, 0.0) for le, n in (await server_buckets(http)).items()}
    total = server.get("+Inf", 0.0)
    if total:  # the api's own view: what the load generator adds shows in the difference
        shares = ", ".join(
            f"<= {le} s {100 * server[le] / total:.1f}%" for le in ("0.01", "0.02", "0.05", "0.1")
        )
        print(f"  server side (api_request_seconds, {total:.0f} requests): {shares}")
    else:
        print(f"  server side: no GET .../events in the api's /metrics ({sorted(server_before)})")
    cpu = {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_after}
    loadgen = round(me_after - me_before, 2)
    ordered = sorted(latencies)
    p50 = round(statistics.median(ordered) * 1000, 2) if ordered else float("nan")
    print(
        f"  {len(tokens)} VENs polling every {POLL_EVERY_S:g}s for {window:.1f}s: {len(latencies)} answers, "
        f"p50 {p50} ms, p99 {p99_ms(ordered) if ordered else None} ms, max "
        f"{ordered[-1] * 1000 if ordered else 0:.1f} ms; errors {dict(errors) or 0}\n"
        f"  CPU s over the window: {cpu} (api pid {api_pid}); load generator (this process) {loadgen}",
        flush=True,
    )
    return {
        "openadr_poll_p50_ms": p50,
        "openadr_poll_p99_ms": p99_ms(ordered) if ordered else float("nan"),
        "openadr_poll_rps": round(len(latencies) / window, 1),
        "openadr_poll_errors": float(sum(errors.values())),
        "openadr_poll_api_cpu_s": cpu["api"],
        "openadr_poll_postgres_cpu_s": cpu["postgres"],
        "openadr_poll_loadgen_cpu_s": loadgen,
    }


# ---- the run ------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, float | None]:
    numbers: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="dr-bench-oadr-") as tmp, LocalStack() as local:
        ns = f"bench{uuid.uuid4().hex[:6]}"
        await ensure_topics(local.kafka_bootstrap, topic_partitions(ns))
        dsn = create_database(local.pg_dsn, f"bench_{ns}")
        await migrate(dsn)
        stack = Stack(local, ns, dsn)
        clients = Path(tmp) / "oadr-clients"
        bl_secret = add_client(clients, BL_CLIENT, "operator")
        ven_secret = write_ven_clients(clients, args.ven_clients)
        rest_token, port = secrets.token_urlsafe(24), free_port()
        api_env = {
            "API_PORT": str(port),
            "API_TOKENS": f"operator:{rest_token}",
            "API_JWT_SECRET": secrets.token_urlsafe(48),
            "OADR_CLIENTS_FILE": str(clients),
            "LOG_LEVEL": "WARNING",  # no per-request logging in the measured process
        }
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        try:
            stack.spawn("bridge", "ingest", "bridge")
            stack.spawn("projector", "ingest", "projector")
            stack.spawn("dispatcher", "dispatcher")
            stack.spawn("api", "api", env=api_env)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
            ) as http:
                await wait_api(http)
                bl = await token(http, BL_CLIENT, bl_secret)
                program = _ok(
                    await http.post(
                        f"{OADR}/programs",
                        json={"programName": "bench"},
                        headers={"Authorization": f"Bearer {bl}"},
                    ),
                    201,
                )
                n = args.vens
                prefix = f"o{n}x{uuid.uuid4().hex[:4]}-"
                sim_args = ["--vens", str(n), "--prefix", prefix, "--interval", str(SIM_INTERVAL_S)]
                sim = stack.spawn(
                    f"sim-{n}", "ven_sim", *sim_args, "--connections", "4", "--log-level", "INFO"
                )
                try:
                    await wait_until(f"{n} VENs registered", lambda: _all_registered(dsn, prefix, n))
                    print(f"fan-out: {n} VENs, {args.rounds} round(s) of REST and OpenADR", flush=True)
                    creators = Creators(http, rest_token, bl, str(program["id"]))
                    numbers |= await fan_outs(stack, creators, n, args.rounds)
                finally:
                    stack.stop(sim)
                    del stack.named["sim"]
                print(f"polling: {args.ven_clients} OpenADR VENs, one api replica", flush=True)
                tokens = await prepare_polling(http, bl, str(program["id"]), args.ven_clients, ven_secret)
                numbers |= await polling(stack, http, tokens, args.poll_s)
        finally:
            stack.stop_all()
    return numbers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.openadr", description=__doc__)
    parser.add_argument(
        "--rounds", type=int, default=2, help="REST/OpenADR fan-out pairs (order alternating)"
    )
    parser.add_argument("--poll-s", type=float, default=POLL_S, help="length of the polling window")
    parser.add_argument("--vens", type=int, default=1000, help="simulated MQTT VENs of the fan-out")
    parser.add_argument("--ven-clients", type=int, default=1000, help="polling OpenADR VENs")
    args = parser.parse_args(argv)
    started = time.monotonic()
    numbers = asyncio.run(run(args))
    merge_results(numbers)
    print_table(numbers)
    print(f"bench.openadr: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
