"""Field types for REST request bodies: strict where old clients are strict, clear errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from api.domain.limits import MAX_DURATION
from dr_contracts.base import ID_PATTERN, MAX_TS, MIN_TS

#: A number (int or float, never a string or a boolean), finite.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _drop_null(schema: dict[str, Any]) -> None:
    variants = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if variants:
        schema.update(variants[0] if len(variants) == 1 else {"anyOf": variants})
    schema.pop("default", None)


def omittable() -> Any:
    """The default of an `X | None` field that may be left out but not sent as `null` (the
    domain refuses an explicit null with its own reason): the schema shows X alone."""
    return Field(default=None, json_schema_extra=_drop_null)


#: Names, in a schema, the setting that bounds a number; the OpenAPI document fills in the
#: configured value (entrypoints/openapi.py).
MAXIMUM_FROM = "x-maximum-from"

#: A reduction in kW. `Limits.check_kw` refuses <= 0 and more than MAX_REDUCTION_KW with
#: clear reasons; the schema states both bounds so that no schema-valid amount is refused.
Kw = Annotated[
    Number,
    Field(json_schema_extra={"exclusiveMinimum": 0, MAXIMUM_FROM: "MAX_REDUCTION_KW"}),
]

_MAX_SECONDS = MAX_DURATION.total_seconds()
#: A command's duration in seconds (1 s to MAX_DURATION), as the domain checks it.
Seconds = Annotated[Number, Field(json_schema_extra={"minimum": 1, "maximum": _MAX_SECONDS})]
#: The same duration in minutes.
Minutes = Annotated[Number, Field(json_schema_extra={"minimum": 1 / 60, "maximum": _MAX_SECONDS / 60})]

VenId = Annotated[str, Field(pattern=ID_PATTERN, description="letters, digits, `_.:-`; 1-128")]

_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def _iso_text(value: Any) -> Any:
    """ISO 8601 text only (no Unix numbers); a `+` that a query string turned into a space
    is put back (`...T10:00:00 02:00` -> `+02:00`)."""
    if not isinstance(value, str):
        if isinstance(value, datetime):
            return value
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    value = value.strip()
    if not _ISO_DATE.match(value):  # pydantic would read "1700000000" as a Unix time
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    return _SPACED_OFFSET.sub(r"+\1", value)


def _in_range(value: datetime) -> datetime:
    if not MIN_TS <= value.timestamp() <= MAX_TS:
        raise PydanticCustomError("out_of_range", "must be between the years 2000 and 2100 (UTC)")
    return value.astimezone(UTC)


#: The years the schema can state; that the instant (time less offset) must also lie within
#: [2000-01-01, 2100-01-01] UTC is beyond a pattern, so that edge is only described.
_YEARS = r"^(20[0-9]{2}-|2100-01-01T00:00:00(\.0+)?(Z|[+-]00:00)$)"


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


_NO_CONTROL = r"[^\x00-\x1f\x7f]*"
#: Free text: printable, UTF-8-encodable.
Text = Annotated[str, AfterValidator(_printable), Field(json_schema_extra={"pattern": rf"^{_NO_CONTROL}$"})]
#: What a client searches for in a list: up to 100 characters of Text.
Search = Annotated[Text, Field(max_length=100)]
#: A VEN's name: 1-200 characters of Text; the domain also refuses a blank one (with its own
#: reason), which the pattern states (`\x85` too: Python strips it, a JSON Schema `\s` does not).
Name = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=200,
        json_schema_extra={"pattern": rf"^{_NO_CONTROL}[^\s\x00-\x1f\x7f\x85]{_NO_CONTROL}$"},
    ),
]

#: ISO 8601 date-time WITH a zone (`Z` or `+02:00`); naive times are refused, never guessed.
IsoDatetime = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    AfterValidator(_in_range),
    Field(
        description="ISO 8601 with a zone, from 2000-01-01 to 2100-01-01 UTC",
        json_schema_extra={"example": "2030-01-01T10:00:00Z", "pattern": _YEARS},
    ),
]


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are refused, numbers are finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)
