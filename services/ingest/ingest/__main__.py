"""`python -m ingest bridge|projector|rebuild|migrate|retention` (settings from the environment)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Awaitable, Callable

from dr_contracts.logging import configure_logging
from dr_runtime.gc_tuning import tune_gc
from dr_runtime.topics_admin import ensure_platform_topics
from ingest import bootstrap, metrics
from ingest.adapters.migrations import migrate
from ingest.service.retention import apply_retention
from ingest.settings import Settings


async def _bridge(settings: Settings, stop: asyncio.Event) -> None:
    await ensure_platform_topics(settings)
    async with bootstrap.bridge(settings, stop) as bridge:
        await bridge.run()


async def _projector(settings: Settings, stop: asyncio.Event) -> None:
    await ensure_platform_topics(settings)
    async with bootstrap.projection_store(settings) as store:
        await bootstrap.project(settings, store, stop)


async def _rebuild(settings: Settings, stop: asyncio.Event) -> None:
    await ensure_platform_topics(settings)
    await bootstrap.rebuild(settings, stop)


async def _migrate(settings: Settings, stop: asyncio.Event) -> None:
    await migrate(settings.database_url)


async def _retention(settings: Settings, stop: asyncio.Event) -> None:
    await migrate(settings.database_url)
    await apply_retention(settings)


COMMANDS: dict[str, Callable[[Settings, asyncio.Event], Awaitable[None]]] = {
    "bridge": _bridge,
    "projector": _projector,
    "rebuild": _rebuild,
    "migrate": _migrate,
    "retention": _retention,
}


async def _run(command: str, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await COMMANDS[command](settings, stop)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(f"ingest-{args.command}", settings.log_level, settings.log_json)
    metrics.serve(settings.metrics_port)
    tune_gc()
    asyncio.run(_run(args.command, settings))


if __name__ == "__main__":
    main()
