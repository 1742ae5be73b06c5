"""The results file every benchmark merges its numbers into, and the time series files for the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BENCH_DIR = Path(".bench")
RESULTS = BENCH_DIR / "results.json"
#: Per-window ingest rate and lag of each ingest run (bench/ingest.py).
INGEST_SERIES = BENCH_DIR / "ingest_timeseries.json"
#: Commands and acks over time for each dispatch size (bench/dispatch.py).
DISPATCH_SERIES = BENCH_DIR / "dispatch_timeline.json"
#: Rate, lag and memory over time of the overload run (bench/overload.py).
OVERLOAD_SERIES = BENCH_DIR / "overload_timeseries.json"
#: The one picture of every series (bench/plot.py).
PLOT = BENCH_DIR / "bench.png"


def merge_results(numbers: dict[str, Any], path: Path = RESULTS) -> dict[str, Any]:
    """Merge `numbers` into a JSON file (the results file unless told) and return the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(numbers)
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return current


def print_table(numbers: dict[str, Any]) -> None:
    """Print name/value pairs as an aligned table."""
    width = max((len(k) for k in numbers), default=0)
    for key in sorted(numbers):
        value = numbers[key]
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown:>14}")
