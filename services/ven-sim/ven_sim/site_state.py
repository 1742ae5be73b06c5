"""One site as its local page shows it (`GET /site/<venId>/state`), read from the VEN itself.

Everything comes from the VEN's own `snapshot` (its caps, its event, its baseline), never from
recomputing a curtailment here, so the page shows what the VEN actually does. Times are ISO
8601 with `serverTime` beside them: the page counts down to `event.endsAt` on the server's
clock, not the browser's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ven_sim.domain import CircuitSnapshot, SimVen


def site_state(ven: SimVen, now: float, *, online: bool = True) -> dict[str, Any]:
    """The page's data at ``now`` (kW rounded to 3 decimals); expires what is due, like `status`."""
    snap = ven.snapshot(now)
    ev = snap.event
    return {
        "venId": ven.ven_id,
        "online": online,
        "serverTime": _iso(now),
        "event": None
        if ev is None
        else {
            "eventId": ev.event_id,
            "requestedShedKw": ev.requested_kw,
            "actualShedKw": round(ev.result.actual_shed_kw, 3),
            "startsAt": _iso(ev.start_ts),
            "endsAt": _iso(ev.end_ts),
        },
        "totalPowerKw": round(snap.power_kw, 3),
        "baselineKw": round(snap.baseline_kw, 3),
        "shedKw": round(snap.shed_kw, 3),
        "circuits": [_circuit(c) for c in snap.circuits],
    }


def _circuit(snap: CircuitSnapshot) -> dict[str, Any]:
    c = snap.circuit
    return {
        "loadId": c.load_id,
        "name": c.name,
        "type": c.type.value,
        "priority": c.priority,
        "enabled": c.enabled,
        "powerBeforeKw": round(snap.natural_kw, 3),
        "powerNowKw": round(snap.power_kw, 3),
        "curtailed": snap.cap_kw is not None,
        "capKw": None if snap.cap_kw is None else round(snap.cap_kw, 3),
    }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
