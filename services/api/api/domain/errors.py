"""What a request can be refused for, independent of HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One bad field and why; `code` is stable (metrics), `reason` is for people."""

    field: str
    reason: str
    code: str = "invalid_value"


class Invalid(Exception):
    """The request breaks one or more rules (HTTP 422)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems


class NotFound(Exception):
    """No such event or VEN (HTTP 404)."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind


class Conflict(Exception):
    """The transition is not allowed in the current state (HTTP 409)."""


class Collector:
    """Gathers every problem of a request so the client fixes them all in one go."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, reason: str, code: str = "invalid_value") -> None:
        self.problems.append(Problem(field, reason, code))

    def raise_if_any(self) -> None:
        if self.problems:
            raise Invalid(self.problems)
