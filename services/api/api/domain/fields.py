"""Field types for REST request bodies: strict where old clients are strict, clear errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from dr_contracts.base import ID_PATTERN, MAX_TS, MIN_TS

#: A number (int or float, never a string or a boolean), finite.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]

VenId = Annotated[str, Field(pattern=ID_PATTERN, description="letters, digits, `_.:-`; 1-128")]

_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")


def _iso_text(value: Any) -> Any:
    """ISO 8601 text only (no Unix numbers); a `+` that a query string turned into a space
    is put back (`...T10:00:00 02:00` -> `+02:00`)."""
    if not isinstance(value, str):
        if isinstance(value, datetime):
            return value
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    return _SPACED_OFFSET.sub(r"+\1", value.strip())


def _in_range(value: datetime) -> datetime:
    if not MIN_TS <= value.timestamp() <= MAX_TS:
        raise ValueError("must be between the years 2000 and 2100")
    return value.astimezone(UTC)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str) -> str:
    """Names travel to Kafka (UTF-8) and Postgres (no NUL): refuse what they cannot carry."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


#: Free text (a name): printable, UTF-8-encodable.
Text = Annotated[str, AfterValidator(_printable)]

#: ISO 8601 date-time WITH a zone (`Z` or `+02:00`); naive times are refused, never guessed.
IsoDatetime = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    AfterValidator(_in_range),
    Field(json_schema_extra={"example": "2030-01-01T10:00:00Z"}),
]


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, numbers are finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)
