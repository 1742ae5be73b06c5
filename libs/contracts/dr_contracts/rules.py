"""The platform's rules that several services apply: one definition each (pure, no I/O).

The dispatcher and the projector fold events with `event_status`; the API's SQL is
generated from `shown_status` and takes `ONLINE_MISSED_INTERVALS` (through the shared
setting VEN_ONLINE_MISSED_INTERVALS) and `MAX_EVENT_DURATION` as query parameters, so a
change here changes every service.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, get_args

EventStatus = Literal["scheduled", "active", "completed", "stopped", "cancelled"]
EVENT_STATUSES: tuple[EventStatus, ...] = get_args(EventStatus)

#: docs/contract.md: a VEN is offline after 3 missed reports (its last reading is older than
#: this many of its report intervals). The default of the shared setting.
ONLINE_MISSED_INTERVALS = 3

#: `vens.source` of a VEN that speaks OpenADR 3 (first seen in a report): it reads its events
#: from the facade, so the dispatcher never sends it MQTT commands (docs/openadr.md).
OPENADR_SOURCE = "openadr"

#: Longest event or direct command: what deployed firmware accepts (`duration_sec` <= 7 days).
MAX_EVENT_DURATION = timedelta(days=7)


def event_status(
    *, outcome: EventStatus | None, activated: bool, cancelled: bool, end_requested: bool
) -> EventStatus:
    """The status the facts of `dr.events` give an event.

    `outcome`: of the first EventCompleted (final). Once activated, the VENs were commanded:
    an end asked for (stop, or a cancel the dispatcher saw too late) makes it `stopped` at
    once, though the dispatcher completes it only after restoring them. Only a cancel before
    activation cancels it.
    """
    if outcome is not None:
        return outcome
    if activated:
        return "stopped" if end_requested else "active"
    return "cancelled" if cancelled else "scheduled"


def shown_status(status: EventStatus, *, start_now: bool, stop_requested: bool) -> EventStatus:
    """What clients see: a scheduled event shows what was asked before the dispatcher acts on it.

    Created with `start_now`: `active`; a stop requested before activation: `stopped`.
    """
    if status != "scheduled":
        return status
    if stop_requested:
        return "stopped"
    return "active" if start_now else "scheduled"
