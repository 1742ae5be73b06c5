"""Resident memory of named processes over time: what the overload run and the soak watch."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dr_infra.process import memory_bytes


@dataclass
class Memory:
    """Resident memory of named processes over time (MB), sampled by a background task."""

    pids: dict[str, tuple[int | None, bool]]
    every_s: float
    t: list[float] = field(default_factory=list)
    mb: dict[str, list[float]] = field(default_factory=dict)

    def sample(self, t: float) -> None:
        self.t.append(round(t, 2))
        for name, (pid, tree) in self.pids.items():
            self.mb.setdefault(name, []).append(round(memory_bytes(pid, with_descendants=tree) / 1e6, 1))

    def peaks(self) -> dict[str, float]:
        return {name: max(values, default=0.0) for name, values in self.mb.items()}

    @contextmanager
    def sampling(self) -> Iterator[None]:
        """Sample every `every_s` in a thread while the block runs (the load generator owns the loop)."""
        stop = threading.Event()
        start = time.time()

        def loop() -> None:
            while not stop.wait(self.every_s):
                self.sample(time.time() - start)

        thread = threading.Thread(target=loop, name="memory-sampler", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
