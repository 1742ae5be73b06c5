"""What to do next with an event, decided from its folded state and the clock only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from dispatcher.domain.events import EventState


@dataclass(frozen=True, slots=True)
class Done:
    """Nothing left to do (ended, or cancelled before it started)."""


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """Sleep until `when` (the start, or the end of an active event), then decide again."""

    when: datetime


@dataclass(frozen=True, slots=True)
class Prepare:
    """Shortly before the start: choose the VENs and split the kW now, so that at the start
    only EventActivated is appended and the commands go out."""


@dataclass(frozen=True, slots=True)
class Activate:
    """Choose the VENs (unless prepared), append EventActivated, send the event commands."""


@dataclass(frozen=True, slots=True)
class FanOut:
    """Active but this replica has not (re)sent its commands yet: finish the fan-out."""


Outcome = Literal["completed", "stopped"]


@dataclass(frozen=True, slots=True)
class Finish:
    """Restore the VENs (if any were told to shed) and append EventCompleted."""

    outcome: Outcome


Decision = Done | WaitUntil | Prepare | Activate | FanOut | Finish


def decide(
    state: EventState,
    now: datetime,
    fanned_out: bool,
    prepared: bool = False,
    prepare_lead: timedelta = timedelta(0),
) -> Decision:
    """The next step for `state` at `now`; `fanned_out`: this replica already sent its commands;
    `prepared`: it already chose the VENs of this not yet started event, `prepare_lead` before."""
    event = state.created
    if state.completion is not None:
        return Done()
    if state.activation is None:
        if state.cancelled:
            return Done()
        if state.stop_requested:
            return Finish("stopped")
        if now >= event.endTime:
            return Finish("completed")  # missed: it ended before anyone could start it
        if event.startNow or now >= event.startTime:
            return Activate()
        if prepared or not prepare_lead:
            return WaitUntil(event.startTime)
        ready_at = event.startTime - prepare_lead
        return Prepare() if now >= ready_at else WaitUntil(ready_at)
    if state.end_requested:
        return Finish("stopped")
    if now >= event.endTime:
        return Finish("completed")
    return WaitUntil(event.endTime) if fanned_out else FanOut()
