"""Domain errors: the adapter turns them into a `rejected` ack carrying `reason`."""

from __future__ import annotations

import math


class DomainError(ValueError):
    """Base of every refusal by the domain, so the adapter can catch one type."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownLoad(DomainError):
    """The command names a loadId this VEN does not have."""

    def __init__(self, load_id: object) -> None:
        super().__init__(f"unknown loadId {load_id!r}")
        self.load_id = load_id


class InvalidValue(DomainError):
    """An argument is out of range or of the wrong type (negative kW, NaN, ...)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class Unsupported(DomainError):
    """The command asks for something this simulated VEN does not do; nothing is changed."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: not supported: {reason}")
        self.field = field


def check_number(field: str, value: object, *, minimum: float = 0.0, strict: bool = False) -> float:
    """Validate a finite real number >= minimum (> when strict); return it as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(field, f"must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidValue(field, f"must be finite, got {value!r}")
    if number < minimum or (strict and number == minimum):
        op = ">" if strict else ">="
        raise InvalidValue(field, f"must be {op} {minimum:g}, got {value!r}")
    return number


def check_time(field: str, value: object) -> float:
    """Validate a finite Unix timestamp (seconds) and return it as float."""
    return check_number(field, value, minimum=-math.inf)
