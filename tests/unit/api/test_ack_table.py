"""Sorting the VEN table of an event (`GET /api/events/{id}/acks?sort=`): what is accepted, what it means."""

from __future__ import annotations

import pytest

from api.domain.ack_table import DEFAULT_SORT, SORTS, SortTerm, parse_sort
from api.domain.errors import Invalid

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("venId", (SortTerm("venId"),)),
        ("-venId", (SortTerm("venId", descending=True),)),
        ("shedKw", (SortTerm("shedKw"), SortTerm("venId"))),
        ("-responseMs", (SortTerm("responseMs", descending=True), SortTerm("venId"))),
        ("-status", (SortTerm("status", descending=True), SortTerm("venId"))),
        ("venName", (SortTerm("venName"), SortTerm("venId"))),
    ],
)
def test_a_column_then_venid_ascending_breaks_ties(text: str, order: tuple[SortTerm, ...]) -> None:
    assert parse_sort(text) == order


def test_every_documented_value_parses_and_the_default_is_venid() -> None:
    assert len(SORTS) == 12
    assert {parse_sort(s)[0].key for s in SORTS} == {
        "venId",
        "venName",
        "shedKw",
        "actualShedKw",
        "responseMs",
        "status",
    }
    assert parse_sort(DEFAULT_SORT) == (SortTerm("venId"),)


@pytest.mark.parametrize(
    "text", ["", "-", "--venId", "+venId", "venid", "VENID", " venId", "venId,status", "ackedAt"]
)
def test_anything_else_is_refused_naming_sort(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_sort(text)
    [problem] = refused.value.problems
    assert (problem.field, problem.code) == ("sort", "invalid_value")
    assert "venId, venName, shedKw, actualShedKw, responseMs, status" in problem.reason
