"""The one place the simulator is assembled and its connections are opened.

`running_simulator(settings)` is the in-process API (tests, the demo): it registers the
VENs when asked, connects and subscribes every link, starts telemetry and yields the
`Simulator` (`.stats`, `.vens`, `.status()`, `.applied()`); leaving it stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import secrets
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path

import structlog

from dr_runtime.mqtt import make_client, tls_context
from ven_sim.adapters.mqtt import Link
from ven_sim.adapters.registry import register_vens
from ven_sim.adapters.status import start_status_server, write_status_file
from ven_sim.faults import Faults, parse_delay
from ven_sim.fleet import VenNode, build_fleet
from ven_sim.settings import Settings
from ven_sim.simulator import Simulator
from ven_sim.site_page import site_routes

log = structlog.get_logger()

#: How long start-up waits for every link to be connected and subscribed.
CONNECT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_PER_LINK_S = 0.02
STATUS_FILE_EVERY_S = 1.0


def build_simulator(settings: Settings) -> Simulator:
    """The fleet, its faults and the simulator around them (no I/O)."""
    faults = Faults(
        seed=settings.seed,
        offline_fraction=settings.offline_fraction,
        ack_drop_rate=settings.ack_drop_rate,
        ack_delay=parse_delay(settings.ack_delay_ms),
        reject_rate=settings.reject_rate,
        malformed_rate=settings.malformed_rate,
    )
    ven_ids = settings.ven_ids
    nodes = build_fleet(
        ven_ids,
        seed=settings.seed,
        ack_shape=settings.ack_shape,
        interval_s=settings.interval_s,
        offline={ven_id for ven_id in ven_ids if faults.is_offline(ven_id)},
    )
    return Simulator(
        nodes,
        topics=settings.mqtt_topics,
        faults=faults,
        interval_s=settings.interval_s,
        telemetry_qos=settings.telemetry_qos,
        per_ven_topics=settings.per_ven_topics,
    )


def build_links(settings: Settings, sim: Simulator) -> list[Link]:
    """Per-ven: a link per online VEN; multiplexed: online VENs dealt round-robin over a few."""
    online = [node for node in sim.nodes if node.online]
    topics = settings.mqtt_topics
    # paho scans every in-flight message on each PUBACK once its window is full (quadratic):
    # an unlimited window keeps bursts cheap; Mosquitto acks QoS 1 without a receive limit.
    client = partial(make_client, settings, max_inflight_messages=0)
    if settings.mode == "per-ven":
        groups = [[node] for node in online]
        names = [node.ven_id for node in online]
        clients = [
            partial(
                client,
                node.ven_id,
                username=node.ven_id,
                password=_ven_password(settings, node),
                tls_context=_identity_tls(settings, settings.ven_cert_dir, node.ven_id),
            )
            for node in online
        ]
    else:  # each link its share of the VENs (those online), as the broker's ACL knows them
        by_id = {node.ven_id: node for node in online}
        tag = secrets.token_hex(3)
        groups, names, clients = [], [], []
        for i, share in enumerate(settings.link_shares()):
            group = [by_id[ven_id] for ven_id in share if ven_id in by_id]
            if group:
                groups.append(group)
                names.append(f"ven-sim-{tag}-{i}")
                gateway = f"{settings.gateway}-{i}"
                clients.append(
                    partial(
                        client,
                        names[-1],
                        tls_context=_identity_tls(settings, settings.gateway_cert_dir, gateway),
                    )
                )
    links = []
    for name, make, group in zip(names, clients, groups, strict=True):
        link = Link(name, make, [topics.cmd(node.ven_id) for node in group], sim.on_message)
        for node in group:
            sim.attach(node, link)
        links.append(link)
    sim.links = links
    return links


def _identity_tls(settings: Settings, folder: str | None, identity: str) -> ssl.SSLContext | None:
    """Over TLS, the connection presents `identity`'s certificate from `folder` (a VEN's own, as a
    field device does, or a link's gateway's), else the process's one (MQTT_CERT_FILE)."""
    if folder is None:
        return tls_context(settings)
    base = Path(folder) / identity
    return tls_context(settings, f"{base}.crt", f"{base}.key")


def _ven_password(settings: Settings, node: VenNode) -> str | None:
    template = settings.ven_password
    return None if template is None else template.replace("{venId}", node.ven_id)


@contextlib.asynccontextmanager
async def running_simulator(settings: Settings) -> AsyncIterator[Simulator]:
    """A started simulator: every link subscribed, telemetry running, status served."""
    sim = build_simulator(settings)
    links = build_links(settings, sim)
    tasks: list[asyncio.Task[None]] = []
    server = await _serve_status(settings, sim) if settings.status_port else None
    try:
        if settings.register_vens:
            await _register(settings, sim)
        tasks += [_task(link.run(), f"link {link.name}") for link in links]
        await _connected(links)
        tasks.append(_task(sim.run_telemetry(), "telemetry"))
        tasks.append(_task(_report(sim, settings), "reporting"))
        log.info(
            "sim.started",
            vens=len(sim.nodes),
            links=len(links),
            mode=settings.mode,
            online=sum(node.online for node in sim.nodes),
        )
        yield sim
    finally:
        if server is not None:
            server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if settings.status_file:
            write_status_file(settings.status_file, sim.status())
        log.info("sim.stopped", **sim.stats.totals())


async def _serve_status(settings: Settings, sim: Simulator) -> asyncio.Server:
    """Up before the links connect, so start-up progress can be watched (`running`)."""
    routes = {
        "/status": sim.status,
        "/status/applied": sim.applied,
        "/status/telemetry": sim.telemetry,
        "/status/reports": sim.reports,
        "/health": lambda: {"ok": True, "running": sim.running},
    }
    prefixes = {"/site": site_routes(sim)}
    return await start_status_server(settings.status_host, settings.status_port, routes, prefixes)


async def _register(settings: Settings, sim: Simulator) -> None:
    done, failed = await register_vens(
        settings.api_url,
        [node.ven_id for node in sim.nodes],
        seed=settings.seed,
        token=settings.api_token,
        concurrency=settings.register_concurrency,
    )
    sim.stats.registered, sim.stats.registration_failed = done, failed


async def _connected(links: list[Link]) -> None:
    timeout = CONNECT_TIMEOUT_S + CONNECT_TIMEOUT_PER_LINK_S * len(links)
    try:
        await asyncio.wait_for(asyncio.gather(*(link.ready.wait() for link in links)), timeout)
    except TimeoutError:
        down = [link.name for link in links if not link.ready.is_set()]
        raise TimeoutError(
            f"{len(down)} of {len(links)} MQTT links not up after {timeout:.0f}s: {', '.join(down[:5])}"
        ) from None


def _task(coro: Awaitable[None], name: str) -> asyncio.Task[None]:
    task = asyncio.ensure_future(coro)
    task.add_done_callback(partial(_log_crash, name))
    return task


def _log_crash(name: str, task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("sim.task_crashed", task=name, exc_info=task.exception())


async def _report(sim: Simulator, settings: Settings) -> None:
    """Status file every second, a counters log line every `log_every_s`."""
    loop = asyncio.get_running_loop()
    next_log = loop.time() + settings.log_every_s
    while True:
        await asyncio.sleep(STATUS_FILE_EVERY_S)
        if settings.status_file:
            write_status_file(settings.status_file, sim.status())
        if loop.time() >= next_log:
            next_log += settings.log_every_s
            log.info("sim.stats", **sim.stats.totals())


async def serve(settings: Settings, stop: Callable[[], Awaitable[object]]) -> None:
    """Run until `stop()` returns (the entry point passes a wait on SIGINT/SIGTERM)."""
    async with running_simulator(settings):
        # The fleet lives as long as the process: keep the cyclic GC from re-scanning it (a
        # full collection over 10k VENs stalls the loop ~0.2 s). Not in running_simulator:
        # freezing is process-wide, and tests run simulators inside their own process.
        gc.freeze()
        await stop()
