"""Bounds that tell a typo from a real request; configurable where operators differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.domain.errors import Collector

#: Longest event or direct command: what deployed firmware accepts (`duration_sec` <= 7 days).
MAX_DURATION = timedelta(days=7)


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
