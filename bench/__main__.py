"""`make bench`: run every benchmark in turn, then print the merged results table.

Each benchmark starts the local infrastructure it needs, prints its own numbers and
merges them into .bench/results.json. One failing benchmark does not stop the others;
the exit code says whether all of them ran. Last, the time series the benchmarks saved are
drawn into .bench/bench.png (bench/plot.py).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable

from bench import api, dashboard, dispatch, ingest, openadr, overload, plot, ven_sim
from bench.results import RESULTS, print_table

BENCHES: dict[str, Callable[[], None]] = {
    "ven_sim": lambda: ven_sim.main(["--quick"] if "--quick" in sys.argv else []),
    "ven_sim_tls": lambda: ven_sim.main(["--tls", *(["--quick"] if "--quick" in sys.argv else [])]),
    "ingest": lambda: ingest.main([]),
    "ingest_tls": lambda: ingest.main(["--tls", "--replicas", "1"]),
    "overload": lambda: overload.main([]),
    "api": api.main,
    "dispatch": lambda: dispatch.main([]),
    "dispatch_tls": lambda: dispatch.main(["--tls"]),
    "dashboard": lambda: dashboard.main([]),
    "openadr": lambda: openadr.main([]),
}


def main() -> int:
    wanted = [a for a in sys.argv[1:] if not a.startswith("-")] or list(BENCHES)
    failed: list[str] = []
    for name in wanted:
        started = time.monotonic()
        print(f"== bench {name}", flush=True)
        try:
            BENCHES[name]()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"== bench {name}: {time.monotonic() - started:.0f} s", flush=True)
    if RESULTS.exists():
        print(f"\nresults ({RESULTS}):")
        print_table(json.loads(RESULTS.read_text()))
    try:
        plot.save()
    except Exception:
        traceback.print_exc()
        failed.append("plot")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
