"""Field types: what mutation testing found unpinned (the schema of an omittable field, the year bounds)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from api.domain.commands import SendCommand
from api.domain.fields import IsoDatetime

pytestmark = pytest.mark.unit

_ISO = TypeAdapter(IsoDatetime)


def test_an_omittable_field_shows_its_type_alone_in_the_schema() -> None:
    """Clients may leave it out but not send null: no `null` variant, no `default: null`."""
    shed = SendCommand.model_json_schema()["properties"]["shedKw"]
    assert shed["type"] == "number" and "anyOf" not in shed and "default" not in shed


@pytest.mark.parametrize("text", ["2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"])
def test_both_year_bounds_are_accepted(text: str) -> None:
    assert _ISO.validate_python(text).isoformat() == text.replace("Z", "+00:00")


def test_a_time_before_2000_is_out_of_range() -> None:
    with pytest.raises(ValidationError) as exc:
        _ISO.validate_python("1999-12-31T23:59:59Z")
    assert [e["type"] for e in exc.value.errors()] == ["out_of_range"]
