"""Bounds that tell a typo from a real request; configurable where operators differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.domain.errors import Collector
from dr_contracts.rules import MAX_EVENT_DURATION

#: Longest event or direct command (defined in dr_contracts.rules: the history query needs it too).
MAX_DURATION = MAX_EVENT_DURATION


@dataclass(frozen=True)
class Limits:
    max_kw: float = 100_000
    past_start_tolerance: timedelta = timedelta(minutes=5)

    def check_kw(self, value: float, field: str, problems: Collector) -> None:
        """A requested reduction must be positive and not absurd."""
        if value <= 0:
            problems.add(field, "must be greater than 0 kW", "out_of_range")
        elif value > self.max_kw:
            problems.add(field, f"must be at most {self.max_kw:g} kW", "out_of_range")
