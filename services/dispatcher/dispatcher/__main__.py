"""`python -m dispatcher`: run one dispatcher replica until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from prometheus_client import start_http_server

from dispatcher.bootstrap import Runtime
from dispatcher.settings import Settings
from dr_contracts.logging import configure_logging
from dr_runtime.gc_tuning import tune_gc


async def serve(settings: Settings) -> None:
    """Run until a stop signal, then shut down cleanly."""
    task = asyncio.create_task(Runtime(settings).run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    settings = Settings()
    configure_logging("dispatcher", settings.log_level, settings.log_json)
    if settings.dispatcher_metrics_port:
        start_http_server(settings.dispatcher_metrics_port)
    tune_gc()
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
