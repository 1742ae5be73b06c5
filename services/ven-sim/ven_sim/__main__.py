"""`python -m ven_sim` / `dr-ven-sim`: run the simulator until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from dr_contracts.logging import configure_logging
from dr_runtime.gc_tuning import tune_gc
from ven_sim.bootstrap import serve
from ven_sim.cli import parse_settings
from ven_sim.settings import Settings


async def _run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(settings, stop.wait)


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_settings(argv)
    configure_logging("ven-sim", settings.log_level, settings.log_json)
    tune_gc()
    asyncio.run(_run(settings))


if __name__ == "__main__":
    main()
