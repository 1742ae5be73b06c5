"""The one results file every benchmark merges its numbers into."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(".bench/results.json")


def merge_results(numbers: dict[str, Any], path: Path = RESULTS) -> dict[str, Any]:
    """Merge `numbers` into the results file (created if missing) and return the whole file."""
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
