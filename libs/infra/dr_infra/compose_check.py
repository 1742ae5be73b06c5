"""``make compose-check``: the compose stack scaled out survives killed containers mid-event.

An operator's session, scripted: ``docker-compose up`` with every platform service scaled
(:data:`SCALE`), the simulator's VENs registered, one event created through REST, and while
its commands and acks flow one dispatcher, one bridge and one projector container are
``docker kill``-ed, kept down while the other replicas must take over, then started again
(``docker kill`` counts as a manual stop: no restart policy brings the container back).
Then, through REST and the simulator's ``/status/applied``: every VEN stored exactly one ack
per command (event and restore) and applied each exactly once. Prints one line per killed
container, and ``down -v`` leaves nothing running. Exit status 1 when anything was lost or doubled.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from dr_contracts.ids import correlation_id

from .images import ROOT
from .ports import free_port

T = TypeVar("T")
FILES = (ROOT / "deploy" / "compose.yaml", ROOT / "deploy" / "compose.local.yaml")
PROJECT = "drcheck"
SCALE = {"ingest-bridge": 3, "dispatcher": 2, "api": 2, "ingest-projector": 2}
#: Killed in this order as the event's commands and acks flow.
KILLED = ("dispatcher", "ingest-bridge", "ingest-projector")
VENS = 200
TOKEN = "compose-check"
SIM_TOKEN = "compose-check-registrar"
LEAD_S, DURATION_S = 5, 45
OPS = ("event", "restore")


class Compose:
    """docker-compose for this project, files and environment."""

    def __init__(self) -> None:
        api_port = free_port()
        self.env = os.environ | {
            "API_TOKENS": f"operator:{TOKEN},registrar:{SIM_TOKEN}",
            "SIM_API_TOKEN": SIM_TOKEN,
            "VENS": str(VENS),
            "MQTT_PORT": str(free_port()),
            "API_PORTS": f"{api_port}-{api_port + 9}",
        }

    def __call__(self, *args: str) -> str:
        files = [arg for f in FILES for arg in ("-f", str(f))]
        done = subprocess.run(
            ["docker-compose", "-p", PROJECT, *files, *args], env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"docker-compose {' '.join(args)}: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def containers(self, service: str | None = None) -> list[str]:
        return self("ps", "-q", *([service] if service else [])).split()

    def url(self, service: str, port: int, index: int = 1) -> str:
        published = self("port", f"--index={index}", service, str(port)).strip()
        return f"http://127.0.0.1:{published.rpartition(':')[2]}"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def health(container: str) -> str:
    """healthy / starting / unhealthy, or the state of a container without a healthcheck."""
    state = "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"
    return docker("inspect", "-f", state, container)


async def until(what: str, check: Callable[[], Awaitable[T | None]], timeout: float) -> T:  # noqa: ASYNC109
    """Poll `check` until it returns something truthy (every 0.5 s); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:.0f}s: {what}")
        await asyncio.sleep(0.5)
    return result


@dataclass
class Kill:
    service: str
    container: str
    at_s: float  # since the event's creation
    commanded: int  # event commands the VENs had received
    acks_stored: int  # VENs the API showed as acked
    restores: int  # restore commands the VENs had received
    healthy_after_s: float | None = None  # from `docker start`


class Check:
    def __init__(self, compose: Compose, api: httpx.AsyncClient, reader: httpx.AsyncClient, sim: str) -> None:
        self.compose, self.api, self.reader, self.sim = compose, api, reader, sim
        self.kills: list[Kill] = []
        self.started = time.monotonic()

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.reader.get(path, params=params or None)
        response.raise_for_status()
        return response.json()

    async def sim_status(self, path: str = "/status") -> Any:
        async with httpx.AsyncClient(base_url=self.sim, timeout=10) as client:
            return (await client.get(path)).json()

    async def kill(self, service: str, event_id: str) -> Kill:
        victim = self.compose.containers(service)[0]
        status, event = await self.sim_status(), await self.get(f"/api/events/{event_id}")
        docker("kill", victim)
        received = status["received_by_op"]
        acked = sum(1 for v in event["vens"] if v["status"] == "acked")
        kill = Kill(
            service, victim, time.monotonic() - self.started, received.get("event", 0), acked,
            received.get("restore", 0),
        )  # fmt: skip
        self.kills.append(kill)
        print(f"{kill.at_s:5.1f}s killed {service} {victim[:12]}", flush=True)
        return kill

    async def start(self, kill: Kill) -> None:
        """`docker start` the killed container (a `docker kill` is a manual stop: no restart policy)."""
        docker("start", kill.container)
        started = time.monotonic()
        print(
            f"{started - self.started:5.1f}s started {kill.service} {kill.container[:12]} again", flush=True
        )

        async def healthy() -> bool:
            return await asyncio.to_thread(health, kill.container) == "healthy"

        await until(f"{kill.service} {kill.container[:12]} healthy again", healthy, 180)
        kill.healthy_after_s = time.monotonic() - started

    async def lost_and_doubled(
        self, event_id: str, ven_ids: list[str], since: datetime
    ) -> dict[str, Counter[str]]:
        """Per side (stored acks through REST, applied commands at the VENs): lost and doubled counts."""
        expected = [correlation_id(event_id, v, op) for v in ven_ids for op in OPS]
        stored: Counter[str] = Counter()
        for ven_id in ven_ids:
            body = await self.get(f"/api/vens/{ven_id}/events", start=since.isoformat(), limit=5000)
            stored.update(a["correlationId"] for a in body["events"] if a["eventId"] == event_id)
        applied = Counter(await self.sim_status("/status/applied"))
        return {
            side: Counter(
                lost=sum(seen[c] == 0 for c in expected), doubled=sum(seen[c] > 1 for c in expected)
            )
            for side, seen in (("stored", stored), ("applied", applied))
        }

    async def run(self) -> bool:
        # The image carries the built dashboard (docs/dashboard.md), served by every replica.
        page = await self.reader.get("/dashboard/")
        if page.status_code != 200 or "app.js" not in page.text:
            print(f"the dashboard is not served by the api image: {page.status_code} {page.text[:200]}")
            return False
        stats = await until("every VEN online through REST", self._online, 180)
        ven_ids = sorted(v["id"] for v in await self.get("/api/vens"))
        since = datetime.now(UTC) - timedelta(seconds=1)
        start = datetime.now(UTC) + timedelta(seconds=LEAD_S)
        created = await self.api.post("/api/events", json={
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(seconds=DURATION_S)).isoformat(),
            "requestedReductionKw": round(0.5 * stats["potentialLoadReductionKw"], 2),
        })  # fmt: skip
        created.raise_for_status()
        event_id = created.json()["id"]
        self.started = time.monotonic()
        print(f"event {event_id} for {len(ven_ids)} VENs, {DURATION_S}s from {start:%H:%M:%S}", flush=True)
        # Each container stays down while the others must take over its share, then comes back.
        dispatcher = await self.kill("dispatcher", event_id)  # commands being written and sent
        await until("a VEN got its command", lambda: self._sim("received_by_op", "event", 1), 120)
        bridge = await self.kill("ingest-bridge", event_id)  # acks about to be published
        await until("every VEN got its command", lambda: self._sim("received_by_op", "event", VENS), 120)
        back = [asyncio.create_task(self.start(dispatcher))]
        await until("half the acks published", lambda: self._sim("acks_sent", None, VENS // 2), 120)
        projector = await self.kill("ingest-projector", event_id)  # acks being stored
        await until("every ack published", lambda: self._sim("acks_sent", None, VENS), 120)
        back.append(asyncio.create_task(self.start(bridge)))
        await until("every ack stored (REST)", lambda: self._acked(event_id), 180)
        back.append(asyncio.create_task(self.start(projector)))
        await asyncio.gather(*back)
        await until("the event completed", lambda: self._status(event_id, "completed"), DURATION_S + 180)

        async def settled() -> dict[str, Counter[str]] | None:
            counts = await self.lost_and_doubled(event_id, ven_ids, since)
            return counts if all(c["lost"] == 0 for c in counts.values()) else None

        try:
            counts = await until("every ack stored and every command applied", settled, 120)
        except TimeoutError:
            counts = await self.lost_and_doubled(event_id, ven_ids, since)
        self.report(counts)
        return all(c["lost"] == c["doubled"] == 0 for c in counts.values())

    async def _online(self) -> dict[str, Any] | None:
        stats = await self.get("/api/stats/network")
        return stats if stats["onlineVens"] >= VENS and stats["potentialLoadReductionKw"] > 0 else None

    async def _sim(self, counter: str, op: str | None, count: int) -> bool:
        value = (await self.sim_status())[counter]
        return (value.get(op, 0) if op else value) >= count

    async def _acked(self, event_id: str) -> bool:
        event = await self.get(f"/api/events/{event_id}")
        return sum(1 for v in event["vens"] if v["status"] == "acked") >= VENS

    async def _status(self, event_id: str, status: str) -> bool:
        return (await self.get(f"/api/events/{event_id}"))["status"] == status

    def report(self, counts: dict[str, Counter[str]]) -> None:
        lost_doubled = " ".join(f"{side} {c['lost']}/{c['doubled']}" for side, c in counts.items())
        print(f"{'killed':<25}{'at':>6}{'commanded':>11}{'acks stored':>13}{'restores':>10}"
              f"{'healthy after':>15}  lost/doubled")  # fmt: skip
        for k in self.kills:
            healthy = k.healthy_after_s or float("nan")
            print(f"{k.service + ' ' + k.container[:6]:<25}{k.at_s:>5.1f}s{k.commanded:>11}"
                  f"{k.acks_stored:>13}{k.restores:>10}{healthy:>14.1f}s  {lost_doubled}")  # fmt: skip


async def operator_session(compose: Compose) -> bool:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        httpx.AsyncClient(base_url=compose.url("api", 8000, 1), headers=headers, timeout=30) as api,
        httpx.AsyncClient(base_url=compose.url("api", 8000, 2), headers=headers, timeout=30) as reader,
    ):
        return await Check(compose, api, reader, compose.url("ven-sim", 8080)).run()


def main() -> int:
    compose = Compose()
    scale = [arg for name, n in SCALE.items() for arg in ("--scale", f"{name}={n}")]
    started = time.monotonic()
    try:
        compose("up", "-d", "--no-build", *scale)
        asyncio.run(until("every container healthy", lambda: asyncio.to_thread(all_healthy, compose), 300))
        print(f"stack healthy in {time.monotonic() - started:.0f}s "
              f"({len(compose.containers())} containers, scale {SCALE})", flush=True)  # fmt: skip
        ok = asyncio.run(operator_session(compose))
    finally:
        compose("down", "-v", "--remove-orphans")
        left = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}")
        print("down -v: nothing left running" if not left else f"still running: {left}")
    print(f"compose-check {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f}s")
    return 0 if ok and not left else 1


def all_healthy(compose: Compose) -> bool:
    """Every container healthy (migrate: exited, it runs once)."""
    states = [health(c) for c in compose.containers()]
    return bool(states) and all(s in ("healthy", "exited") for s in states)


if __name__ == "__main__":
    sys.exit(main())
