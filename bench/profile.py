"""Where the ingest hot path spends its CPU: py-spy on the bridge and the projector under load.

On a fresh local stack the bench starts the ingest pipeline (bench/ingest.py: one projector,
one bridge) and offers telemetry at `--rate` (default 2,000/s, below capacity, so that the
profile is of steady work, not of a backlog) for `--seconds`, while `py-spy record` samples
both processes (all threads, idle time excluded). Written to .bench/profile/:
- `<process>.svg`: the flame graph;
- `<process>.txt`: the functions with the most samples, self (the function itself) and
  inclusive (with what it calls), as a share of the process's samples.

    python -m bench.profile [--rate 2000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench import ingest
from bench.results import BENCH_DIR
from dr_infra import LocalStack

OUT = BENCH_DIR / "profile"
TOP = 25


def py_spy(pid: int, seconds: float, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    sampling = ["--duration", str(int(seconds)), "--rate", "200", "--nonblocking"]
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), *sampling, "--format", fmt, "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def summary(raw: Path) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")[1:]  # the first frame is the thread
        total += count
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def table(counts: Counter[str]) -> list[str]:
        return [f"{100 * n / max(1, total):5.1f} %  {frame}" for frame, n in counts.most_common(TOP)]

    return "\n".join([f"{total} samples", "", "self:", *table(own), "", "inclusive:", *table(inclusive), ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with LocalStack() as stack, ingest.pipeline(stack, 1) as pipeline:
        targets = {"bridge": pipeline.bridges[0].pid, "projector": pipeline.projector.pid}
        recorders = []
        for name, pid in targets.items():
            assert pid is not None, f"{name} is not running"
            recorders.append(py_spy(pid, args.seconds, OUT / f"{name}.raw", "raw"))
            recorders.append(py_spy(pid, args.seconds, OUT / f"{name}.svg", "flamegraph"))
        vens = int(args.rate * ingest.REPORT_INTERVAL_S)
        load = asyncio.run(ingest.publish(stack.mqtt_url, pipeline.topic, args.rate, args.seconds, vens))
        for recorder in recorders:
            _, err = recorder.communicate(timeout=60)
            if recorder.returncode != 0:
                raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        print(f"profile: {load.acked} readings offered at {args.rate:.0f}/s")
    for name in targets:
        text = summary(OUT / f"{name}.raw")
        (OUT / f"{name}.txt").write_text(text)
        print(f"== {name} ({OUT / name}.svg)\n{text}")


if __name__ == "__main__":
    main()
