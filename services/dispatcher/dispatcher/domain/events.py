"""Event state as a pure fold over the facts of `dr.events`.

Rules of the fold (the log may hold races between the API and the dispatcher):
- the first EventActivated of an event is its allocation; later ones are ignored;
- the first EventCompleted ends it; facts after that change nothing;
- EventCancelled before activation cancels it; after activation it asks for an early end,
  like EventStopRequested (the VENs were already told to shed, so they must be restored).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from dr_contracts.facts import (
    EventActivated,
    EventCancelled,
    EventCompleted,
    EventCreated,
    EventStopRequested,
    FactPayload,
)
from dr_contracts.rules import EventStatus, event_status


@dataclass(frozen=True, slots=True)
class EventState:
    """What the log says about one event."""

    created: EventCreated
    partition: int
    activation: EventActivated | None = None
    completion: EventCompleted | None = None
    cancelled: bool = False
    stop_requested: bool = False

    @property
    def event_id(self) -> str:
        return self.created.eventId

    @property
    def status(self) -> EventStatus:
        """As the projection shows it: `stopped` once an end is asked for after activation."""
        return event_status(
            outcome=None if self.completion is None else self.completion.outcome,
            activated=self.activation is not None,
            cancelled=self.cancelled,
            end_requested=self.end_requested,
        )

    @property
    def end_requested(self) -> bool:
        """Someone asked to end it early (stop, or cancel once it had started)."""
        return self.stop_requested or self.cancelled

    @property
    def shed_start(self) -> datetime:
        """When the VENs' shed window begins: the activation (at, or after, the start time)."""
        return self.created.startTime if self.activation is None else self.activation.activatedAt


def apply(state: EventState | None, fact: FactPayload, partition: int) -> EventState | None:
    """Fold one fact into an event's state; facts before EventCreated are ignored (None)."""
    if isinstance(fact, EventCreated):
        return state or EventState(created=fact, partition=partition)
    if state is None or state.completion is not None:
        return state
    if isinstance(fact, EventActivated):
        # Even after a cancel: commands may have gone out, so the end must restore them.
        return state if state.activation is not None else replace(state, activation=fact)
    if isinstance(fact, EventCompleted):
        return replace(state, completion=fact)
    if isinstance(fact, EventCancelled):
        return replace(state, cancelled=True)
    if isinstance(fact, EventStopRequested):
        return replace(state, stop_requested=True)
    return state
