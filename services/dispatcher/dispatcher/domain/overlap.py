"""Overlapping events on one VEN: the VEN follows the event activated last.

A VEN receives every event command it is allocated, even while it sheds for another
event; it replaces its current event with the new one. Therefore, at the end of an event,
a VEN gets a `restore` only if that event is still the latest one activated on it, and
re-sends of an event's commands stop once a newer event has taken the VEN. (Otherwise the
end of an older event would cut short a newer one.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dr_contracts.facts import EventActivated


@dataclass
class ActivationIndex:
    """venId -> (activatedAt, eventId) of the latest activation that allocated it."""

    latest: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def add(self, activation: EventActivated) -> None:
        """Fold in an event's (first) activation; the later (activatedAt, eventId) wins."""
        mark = (activation.activatedAt, activation.eventId)
        for alloc in activation.allocations:
            current = self.latest.get(alloc.venId)
            if current is None or mark > current:
                self.latest[alloc.venId] = mark

    def owns(self, ven_id: str, event_id: str) -> bool:
        """Is `event_id` the event `ven_id` currently follows?"""
        current = self.latest.get(ven_id)
        return current is not None and current[1] == event_id
