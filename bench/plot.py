"""One picture of the bench time series: ingest rate and lag over time, dispatch fan-out per size.

Reads .bench/ingest_timeseries.json (bench/ingest.py), .bench/overload_timeseries.json
(bench/overload.py) and .bench/dispatch_timeline.json (bench/dispatch.py), draws what is
there into .bench/bench.png; a missing series is left out with a message.

    python -m bench.plot
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench.results import DISPATCH_SERIES, INGEST_SERIES, OVERLOAD_SERIES, PLOT


def load(path: Path) -> dict[str, Any]:
    """The series in `path`, or nothing (with a message) if the bench that writes it has not run."""
    if not path.exists():
        print(f"plot: no {path}, its panels are left out")
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def ingest_rate(ax: Axes, runs: dict[str, Any]) -> None:
    for label, run in runs.items():
        (line,) = ax.plot(run["t"], run["rows_per_s"], label=label)
        ax.axhline(run["offered_per_s"], color=line.get_color(), linestyle=":", linewidth=1)
    ax.set(title="Ingest: rows stored per second (dotted: offered)", xlabel="s since first reading sent")
    ax.set_ylabel("rows/s")


def ingest_lag(ax: Axes, runs: dict[str, Any]) -> None:
    for label, run in runs.items():
        (line,) = ax.plot(run["t"], run["lag_p99_ms"], label=f"{label} p99")
        ax.plot(run["t"], run["lag_p50_ms"], color=line.get_color(), linestyle="--", label=f"{label} p50")
    ax.set(title="Ingest: lag publish -> row, per window", xlabel="s since first reading sent", yscale="log")
    ax.set_ylabel("ms")


def overload_flow(ax: Axes, run: dict[str, Any]) -> None:
    ax.plot(run["t"], run["rows_per_s"], label="rows stored/s")
    ax.axvline(run["over_end_t"], color="grey", linestyle=":", label="end of the overload")
    ax.set(title="Overload (2x capacity, then 0.5x): rows/s and lag p99", xlabel="s since first reading sent")
    ax.set_ylabel("rows/s")
    lag = ax.twinx()
    lag_s = [math.nan if v is None else v / 1000 for v in run["lag_p99_ms"]]
    lag.plot(run["t"], lag_s, color="tab:red")
    lag.axhline(2, color="tab:red", linestyle=":", linewidth=1)
    lag.set_ylabel("lag p99, s (red; dotted: 2 s)")


def overload_memory(ax: Axes, run: dict[str, Any]) -> None:
    memory = run["memory"]
    for name, values in memory.items():
        if name != "t":
            ax.plot(memory["t"], values, label=name)
    ax.set(title="Overload: resident memory per process", xlabel="s since the load began", ylabel="MB")


def dispatch(ax: Axes, size: str, timeline: dict[str, Any]) -> None:
    for name, curve in (
        ("commanded (recorded, then published)", timeline["commanded"]),
        ("acks received (bridge)", timeline["acks_received"]),
        ("acks in Postgres", timeline["acks_projected"]),
    ):
        ax.step(curve["t"], curve["n"], where="post", label=name)
    ax.set(title=f"Dispatch fan-out, {size} VENs", xlabel="s since event start", ylabel="VENs")


def save(path: Path = PLOT) -> Path | None:
    """Draw every series there is into `path` (Agg, no display needed); None if there is none."""
    ingest, overload, timelines = load(INGEST_SERIES), load(OVERLOAD_SERIES), load(DISPATCH_SERIES)
    panels: list[Callable[[Axes], None]] = (
        [partial(ingest_rate, runs=ingest), partial(ingest_lag, runs=ingest)] if ingest else []
    )
    if overload:
        panels += [partial(overload_flow, run=overload), partial(overload_memory, run=overload)]
    for size, timeline in sorted(timelines.items(), key=lambda item: item[1]["vens"]):
        panels.append(partial(dispatch, size=size, timeline=timeline))
    if not panels:
        print("plot: no series, no plot")
        return None
    rows = math.ceil(len(panels) / 2)
    fig = Figure(figsize=(14, 4.5 * rows), layout="tight")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 2, squeeze=False).flat
    for ax, draw in zip(axes, panels, strict=False):
        draw(ax)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")
    return path


if __name__ == "__main__":
    save()
