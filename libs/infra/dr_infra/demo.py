"""The live demo of `make run`: one event through the REST API, followed on screen.

Everything shown comes from the platform's own read side, through the REST API: the event
and its VENs, and its command counts and latencies (`GET /api/events/{id}/commands`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx


@dataclass
class Progress:
    """What the screen shows, refreshed once a second."""

    event: dict[str, Any]
    sent: int = 0
    acked: int = 0
    timed_out: int = 0
    restored: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    energy_kwh: float = 0.0
    samples: list[float] = field(default_factory=list)


def wait_for_vens(api: httpx.Client, count: int, timeout: float = 120.0) -> dict[str, Any]:
    """Wait until `count` VENs report online; return the network stats."""
    deadline = time.monotonic() + timeout
    while True:
        stats = api.get("/api/stats/network").json()
        print(f"\r  VENs online: {stats['onlineVens']}/{count}   ", end="", flush=True)
        if stats["onlineVens"] >= count:
            print()
            return stats
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {stats['onlineVens']} of {count} VENs came online in {timeout:.0f}s")
        time.sleep(1)


def create_event(api: httpx.Client, reduction_kw: float, lead_s: float, duration_s: float) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(seconds=lead_s)
    body = {
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(seconds=duration_s)).isoformat(),
        "requestedReductionKw": round(reduction_kw, 1),
    }
    response = api.post("/api/events", json=body)
    response.raise_for_status()
    return response.json()


def follow(
    api: httpx.Client,
    event_id: str,
    *,
    table_rows: int = 8,
    watch: Callable[[], None] = lambda: None,
    link: str | None = None,
) -> Progress:
    """Redraw the event's progress every second until it is over; return the final numbers.

    `watch` runs every second too: it raises to stop following (make run: a process exited).
    `link`, the event's page in the dashboard, stays on screen.
    """
    progress = Progress(event={})
    last = time.monotonic()
    while True:
        watch()
        progress.event = api.get(f"/api/events/{event_id}").json()
        commands = api.get(f"/api/events/{event_id}/commands").json()
        progress.sent, progress.acked = commands["sent"], commands["acked"]
        progress.timed_out, progress.restored = commands["timedOut"], commands["restoresAcked"]
        progress.p50_ms, progress.p99_ms = commands["latencyP50Ms"], commands["latencyP99Ms"]
        now = time.monotonic()
        if progress.event["status"] == "active":
            progress.energy_kwh += progress.event["currentReductionKw"] * (now - last) / 3600
        last = now
        _draw(progress, table_rows, link)
        if progress.event["status"] in ("completed", "stopped", "cancelled"):
            return progress
        time.sleep(1)


def _draw(p: Progress, rows: int, link: str | None) -> None:
    e = p.event
    now = datetime.now(UTC)
    start, end = datetime.fromisoformat(e["startTime"]), datetime.fromisoformat(e["endTime"])
    if e["status"] == "scheduled":
        clock = f"starts in {max(0, (start - now).total_seconds()):.0f}s"
    elif e["status"] == "active":
        clock = f"ends in {max(0, (end - now).total_seconds()):.0f}s"
    else:
        clock = "over"
    lines = [
        f"event {e['id']}  status {e['status'].upper():<10} {clock}",
        f"  requested {e['requestedReductionKw']:.1f} kW"
        f"   delivered now {e.get('currentReductionKw', 0) if e['status'] == 'active' else 0:.1f} kW"
        f"   VENs responding {e.get('vensResponding', 0)}",
        f"  commands sent {p.sent}   event acked {p.acked}   restores acked {p.restored}"
        f"   timed out {p.timed_out}   avg response {e.get('avgResponseMs', 0):.0f} ms",
        f"  {'venId':<14}{'allocated kW':>13}{'shed kW':>10}  status",
    ]
    for ven in e.get("vens", [])[:rows]:
        actual = ven.get("actualShedKw")
        lines.append(
            f"  {ven['venId']:<14}{ven['shedKw']:>13.2f}{actual if actual is not None else 0:>10.2f}"
            f"  {ven['status']}"
        )
    more = len(e.get("vens", [])) - rows
    if more > 0:
        lines.append(f"  ... and {more} more VENs")
    if link:
        lines.append(f"  follow it in the dashboard: {link}")
    print("\x1b[2J\x1b[H" + "\n".join(lines), flush=True)


def summary(p: Progress) -> str:
    e = p.event
    requested = e["requestedReductionKw"]
    delivered = e.get("actualReductionKw") or 0.0
    pct = 100 * delivered / requested if requested else 0
    fmt = lambda v: "-" if v is None else f"{v:.0f} ms"  # noqa: E731
    return "\n".join(
        [
            f"summary of {e['id']}: {e['status']}",
            f"  delivered {delivered:.1f} kW of {requested:.1f} kW requested ({pct:.0f}%) by acks",
            f"  VENs responding {e.get('vensResponding', 0)} of {len(e.get('vens', []))};"
            f" commands timed out {p.timed_out}; restores acked {p.restored}",
            f"  response latency p50 {fmt(p.p50_ms)}, p99 {fmt(p.p99_ms)}",
            f"  energy shed about {p.energy_kwh:.2f} kWh (delivered kW integrated over the event)",
        ]
    )
