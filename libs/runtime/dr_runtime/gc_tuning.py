"""Garbage collection sized for a message service: fewer, cheaper collections.

CPython collects its youngest generation every 700 net container allocations. A service that
turns each message into a dozen short-lived objects (an MQTT message, a dict, pydantic
models, a Kafka future) pays that collection every few dozen messages, and each full
collection walks every object loaded at start (modules, settings, schemas) again. Reference
counting frees those objects anyway; the collector only finds cycles, which are rare here.

So each service, once started and before its loop runs: freezes what exists (start-up
objects move to a permanent generation no collection walks) and collects the young
generation every 50,000 allocations instead of 700. Measured on the ingest bench (1 bridge,
10,000 readings/s offered, two alternating pairs, 2026-12-06): bridge 216-229 -> 184-185 µs
and projector 113-127 -> 102-105 µs of CPU per stored reading, 3,756-3,984 -> 4,422-4,437
readings/s stored.
"""

from __future__ import annotations

import gc

#: Allocations between young collections (CPython's default: 700).
YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Freeze the start-up heap and collect the young generation less often (call once, at start)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
